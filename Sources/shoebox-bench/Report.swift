// Text and JSON output of one run.

import ArgumentParser
import Foundation
import Histogram

struct Report {
    let op: String
    let common: CommonOptions
    let size: Int
    let result: RunResult
    var extra: [String: JSONValue] = [:]

    func summary(_ stats: OpStats) -> [String: JSONValue] {
        let elapsed = max(result.elapsed, 1e-9)
        let ms = { (us: UInt64) in JSONValue.number(Double(us) / 1000) }
        return [
            "ops": .int(stats.ops),
            "opsPerSec": .number(Double(stats.ops) / elapsed),
            "bytes": .int(stats.bytes),
            "mbPerSec": .number(Double(stats.bytes) / elapsed / 1_000_000),
            "p50Ms": ms(stats.latency.valueAtPercentile(50)),
            "p90Ms": ms(stats.latency.valueAtPercentile(90)),
            "p99Ms": ms(stats.latency.valueAtPercentile(99)),
            "maxMs": ms(stats.latency.max),
            "meanMs": .number(stats.latency.mean / 1000),
            "errors": .int(stats.errors),
        ]
    }

    func emit() throws {
        let total = result.stats.total
        if common.json {
            var object = summary(total)
            object["op"] = .string(op)
            object["endpoint"] = .string(common.endpoint)
            object["bucket"] = .string(common.bucket)
            object["size"] = .int(size)
            object["concurrency"] = .int(common.concurrency)
            object["durationSec"] = .number(result.elapsed)
            object["flagged"] = .bool(total.errors > 0)
            object["errorSamples"] = .array(result.stats.errorSamples.map { .string($0) })
            if result.stats.byOp.count > 1 {
                object["byOp"] = .object(Dictionary(uniqueKeysWithValues: result.stats.byOp.map { ($0.key.rawValue, .object(summary($0.value))) }))
            }
            for (key, value) in extra { object[key] = value }
            if let cpu = result.cpu {
                var fields: [String: JSONValue] = ["clientSec": .number(cpu.client)]
                if let server = cpu.server {
                    fields["serverSec"] = .number(server)
                    fields["serverUsPerOp"] = .number(total.ops > 0 ? server * 1e6 / Double(total.ops) : 0)
                }
                if let machine = cpu.machine { fields["machineSec"] = .number(machine) }
                if let other = cpu.other { fields["otherSec"] = .number(other) }
                if let kernel = cpu.kernelThreads { fields["kernelThreadSec"] = .number(kernel) }
                if let interrupts = cpu.interrupts { fields["interruptSec"] = .number(interrupts) }
                fields["clientUsPerOp"] = .number(total.ops > 0 ? cpu.client * 1e6 / Double(total.ops) : 0)
                object["cpu"] = .object(fields)
            }
            print(JSONValue.object(object).serialized())
        } else {
            var lines = ["shoebox-bench \(op): \(common.endpoint)/\(common.bucket), "
                + (op == "list" ? "" : "size \(ByteSize(bytes: size).label), ")
                + "concurrency \(common.concurrency), \(String(format: "%.1f", result.elapsed)) s"
                + (extra.isEmpty ? "" : ", " + extra.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.serialized())" }.joined(separator: ", "))]
            let header = ["op", "ops", "ops/s", "MB/s", "p50 ms", "p99 ms", "max ms", "errors"]
            let widths = [7, 10, 11, 10, 9, 9, 9, 7]
            func line(_ cells: [String]) -> String {
                "  " + zip(cells, widths).enumerated().map { index, pair in
                    let pad = String(repeating: " ", count: max(0, pair.1 - pair.0.count))
                    return index == 0 ? pair.0 + pad : pad + pair.0
                }.joined(separator: " ")
            }
            lines.append(line(header))
            let rows: [(String, OpStats)] = (result.stats.byOp.count > 1
                ? OpKind.allCases.compactMap { kind in result.stats.byOp[kind].map { (kind.rawValue, $0) } } : [])
                + [("total", total)]
            for (name, stats) in rows {
                let s = summary(stats)
                let f = { (key: String, digits: Int) in String(format: "%.\(digits)f", s[key]!.double) }
                lines.append(line([name, String(stats.ops), f("opsPerSec", 1), f("mbPerSec", 2), f("p50Ms", 2), f("p99Ms", 2),
                                   f("maxMs", 2), String(stats.errors)]))
            }
            if let cpu = result.cpu {
                let cores = { (seconds: Double) in String(format: "%.2f", seconds / max(result.elapsed, 1e-9)) }
                let perOp = { (seconds: Double) in String(format: "%.0f", total.ops > 0 ? seconds * 1e6 / Double(total.ops) : 0) }
                var text = "  cpu (cores busy): client \(cores(cpu.client))"
                if let server = cpu.server { text += ", server \(cores(server))" }
                if let kernel = cpu.kernelThreads { text += ", kernel threads \(cores(kernel))" }
                if let interrupts = cpu.interrupts { text += ", irq \(cores(interrupts))" }
                if let other = cpu.other { text += ", other processes \(cores(other))" }
                if let machine = cpu.machine { text += " of \(cores(machine)) busy" }
                text += "; per op: client \(perOp(cpu.client)) us"
                if let server = cpu.server { text += ", server \(perOp(server)) us" }
                lines.append(text)
            }
            if total.errors > 0 {
                lines.append("  FLAGGED: \(total.errors) failed requests, e.g.")
                lines += result.stats.errorSamples.map { "    " + $0 }
            }
            print(lines.joined(separator: "\n"))
        }
        if total.errors > 0 { throw ExitCode(1) }
    }
}

/// Just enough JSON for the report (stable key order).
enum JSONValue {
    case string(String), int(Int), number(Double), bool(Bool), array([JSONValue]), object([String: JSONValue])

    var double: Double {
        switch self {
        case .int(let n): Double(n)
        case .number(let d): d
        default: 0
        }
    }

    func serialized() -> String {
        switch self {
        case .string(let s):
            var out = "\""
            for scalar in s.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                default:
                    if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
                }
            }
            return out + "\""
        case .int(let n): return String(n)
        case .number(let d): return d.isFinite ? String(format: "%.3f", d) : "null"
        case .bool(let b): return b ? "true" : "false"
        case .array(let items): return "[" + items.map { $0.serialized() }.joined(separator: ",") + "]"
        case .object(let fields):
            return "{" + fields.sorted { $0.key < $1.key }.map { JSONValue.string($0.key).serialized() + ":" + $0.value.serialized() }
                .joined(separator: ",") + "}"
        }
    }
}

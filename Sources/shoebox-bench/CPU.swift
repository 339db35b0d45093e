// CPU time over the measured window (Linux /proc): the client's own, the server's (with
// --server-pid, its whole process tree), and the whole machine's, so that a run says how
// the cores were shared and what one operation cost the server.

import Foundation

struct CPUSnapshot: Sendable {
    var client: Double      // seconds, this process (user + system)
    var server: Double?     // seconds, the --server-pid trees
    var machine: Double?    // seconds, all non-idle time of all cores
    var kernelThreads: Double?  // seconds, kernel threads (writeback, ...): work done for anyone
    var interrupts: Double?     // seconds, irq + softirq (loopback TCP is mostly softirq): not charged to processes

    static func take(serverPIDs: [Int32]) -> CPUSnapshot {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let client = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        let server = serverPIDs.isEmpty ? nil : serverPIDs.reduce(0.0) { $0 + treeSeconds($1) }
        let machine = machineSeconds()
        return CPUSnapshot(client: client, server: server, machine: machine?.busy, kernelThreads: kernelThreadSeconds(),
                           interrupts: machine?.interrupts)
    }

    /// utime + stime of kthreadd's children (kworkers doing writeback, ksoftirqd, ...).
    static func kernelThreadSeconds() -> Double? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        var total = 0.0
        for entry in entries where entry.first?.isNumber == true {
            guard let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 12, fields[1] == "2" || entry == "2",
                  let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
            total += (user + system) / ticks
        }
        return total
    }

    static let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// utime + stime of `pid` and its descendants, in seconds.
    static func treeSeconds(_ pid: Int32) -> Double {
        var total = 0.0
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")") {
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // After "pid (comm)": state is field 3, utime 14, stime 15 (1-based) -> 11, 12 here.
            if fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) {
                total += (user + system) / ticks
            }
        }
        if let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") {
            for task in tasks {
                guard let children = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8) else { continue }
                for child in children.split(separator: " ") { if let c = Int32(child) { total += treeSeconds(c) } }
            }
        }
        return total
    }

    /// Non-idle time of all cores from /proc/stat, and the part of it in irq and softirq, in seconds.
    static func machineSeconds() -> (busy: Double, interrupts: Double)? {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = stat.split(separator: "\n").first, line.hasPrefix("cpu ") else { return nil }
        let values = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard values.count >= 8 else { return nil }
        // user nice system idle iowait irq softirq steal
        let busy = values[0] + values[1] + values[2] + values[5] + values[6] + values[7]
        return (busy / ticks, (values[5] + values[6]) / ticks)
    }
}

struct CPUUsage: Sendable {
    var client: Double
    var server: Double?
    var machine: Double?
    var kernelThreads: Double?
    var interrupts: Double?

    init(from start: CPUSnapshot, to end: CPUSnapshot) {
        interrupts = zip2(start.interrupts, end.interrupts).map { $1 - $0 }
        client = end.client - start.client
        server = zip2(start.server, end.server).map { $1 - $0 }
        machine = zip2(start.machine, end.machine).map { $1 - $0 }
        // Kernel threads that exit during the window take their time with them: never below 0.
        kernelThreads = zip2(start.kernelThreads, end.kernelThreads).map { max(0, $1 - $0) }
    }

    /// Machine time spent neither by this client, nor by the server, nor by kernel threads,
    /// nor in interrupts: other processes' load and steal (noise from whatever else runs).
    var other: Double? {
        guard let machine, let server else { return nil }
        return max(0, machine - client - server - (kernelThreads ?? 0) - (interrupts ?? 0))
    }
}

private func zip2<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
    guard let a, let b else { return nil }
    return (a, b)
}

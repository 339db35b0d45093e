import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Builds an XML document as a string. S3 responses are small, flat documents; this writer
/// escapes text and attributes and nothing more.
struct XMLWriter {
    var text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

    init() {}

    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\r": out += "&#13;"
            case "\t": out += "&#9;"
            case "\n": out += "&#10;"
            default:
                if ch.value < 0x20 { out += "&#\(ch.value);" } else { out.unicodeScalars.append(ch) }
            }
        }
        return out
    }

    /// Opens `<name>` (with the S3 namespace when `namespace` is true), runs `body`, closes it.
    mutating func element(_ name: String, namespace: Bool = false, attributes: [(String, String)] = [], _ body: (inout XMLWriter) -> Void) {
        text += "<\(name)"
        if namespace { text += " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"" }
        for (k, v) in attributes { text += " \(k)=\"\(Self.escape(v))\"" }
        text += ">"
        body(&self)
        text += "</\(name)>"
    }

    /// `<name>value</name>`
    mutating func leaf(_ name: String, _ value: String) {
        text += "<\(name)>\(Self.escape(value))</\(name)>"
    }

    /// `<name>value</name>`, or nothing when `value` holds a character XML 1.0 cannot carry even
    /// as a reference (a control character but tab, LF, CR): for documents that echo a request's
    /// key with no URL encoding to fall back on, which SDKs could not parse at all otherwise
    /// (botocore#3496); the client knows the key it sent.
    mutating func leaf(_ name: String, ifXML10 value: String) {
        if value.unicodeScalars.allSatisfy({ $0.value >= 0x20 || $0 == "\t" || $0 == "\n" || $0 == "\r" }) { leaf(name, value) }
    }

    /// `<name>value</name>` when value is not nil.
    mutating func leaf(_ name: String, _ value: String?) {
        if let value { leaf(name, value) }
    }
}

/// A parsed XML element: a minimal tree for the small request documents S3 accepts
/// (DeleteObjects, and later CORS, ACL and notification configurations).
final class XMLElement {
    let name: String
    var text = ""
    var children: [XMLElement] = []

    init(name: String) { self.name = name }

    /// The first child named `name`.
    func child(_ name: String) -> XMLElement? { children.first { $0.name == name } }
    /// All children named `name`.
    func children(_ name: String) -> [XMLElement] { children.filter { $0.name == name } }

    /// Parses `data`; nil when it is not well-formed XML.
    static func parse(_ data: Data) -> XMLElement? {
        let delegate = TreeBuilder()
        let parser = XMLParser(data: data)
        parser.shouldProcessNamespaces = true  // element names without prefixes
        parser.delegate = delegate
        // An unclosed element is not well-formed, though XMLParser on Linux may report success.
        guard parser.parse(), delegate.stack.isEmpty, let root = delegate.root else { return nil }
        return root
    }

    private final class TreeBuilder: NSObject, XMLParserDelegate {
        var root: XMLElement?
        var stack: [XMLElement] = []

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
            let element = XMLElement(name: elementName)
            if let parent = stack.last { parent.children.append(element) } else { root = element }
            stack.append(element)
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
            stack.removeLast()
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            stack.last?.text += string
        }
    }
}

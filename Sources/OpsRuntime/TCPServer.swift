import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A deliberately small blocking TCP server on its own thread, for the two things here that need one: the
/// Prometheus scrape endpoint and the embedded broker's control port. One request per connection, handled
/// in order; not for traffic.
public final class TinyTCPServer: @unchecked Sendable {
    public let port: Int
    private let fd: Int32
    private let handler: @Sendable ([UInt8]) -> [UInt8]
    private let isComplete: @Sendable ([UInt8]) -> Bool
    private let stopFlag = StopFlag()

    /// Binds `host:port` (port 0 picks a free one). `isComplete` says when a request has been read in full.
    public init(host: String = "127.0.0.1", port: Int, isComplete: @escaping @Sendable ([UInt8]) -> Bool,
                handler: @escaping @Sendable ([UInt8]) -> [UInt8]) throws {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard s >= 0 else { throw ConfigError("cannot create a socket: errno \(errno)") }
        var yes: Int32 = 1
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else { close(s); throw ConfigError("not an IPv4 address: \(host)") }
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0 else { close(s); throw ConfigError("cannot listen on \(host):\(port): \(String(cString: strerror(errno)))") }
        guard listen(s, 16) == 0 else { close(s); throw ConfigError("listen failed on \(host):\(port)") }
        var actual = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) } }
        self.port = Int(UInt16(bigEndian: actual.sin_port))
        self.fd = s
        self.handler = handler
        self.isComplete = isComplete
        let t = Thread { [self] in self.loop() }
        t.name = "tcp-server-\(self.port)"
        t.start()
    }

    private func loop() {
        while !stopFlag.isStopped {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 200) > 0 else { continue }
            let c = accept(fd, nil, nil)
            guard c >= 0 else { continue }
            var tv = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            var request = [UInt8]()
            var buf = [UInt8](repeating: 0, count: 4096)
            while !isComplete(request), request.count < 65536 {
                let n = recv(c, &buf, buf.count, 0)
                if n <= 0 { break }
                request += buf[0..<n]
            }
            let response = handler(request)
            var sent = 0
            while sent < response.count {
                let n = response[sent...].withUnsafeBytes { send(c, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { break }
                sent += n
            }
            close(c)
        }
        close(fd)
    }

    public func stop() { stopFlag.stop() }
}

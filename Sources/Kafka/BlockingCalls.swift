import Dispatch
import Foundation
import Synchronization

/// `body` over every item at once, each on a thread of its own, the results in order; the first error is thrown.
/// For calls that block on the network (a metadata or watermark query, a topic creation): a dispatch queue would run
/// only as many at once as there are cores. `whileWaiting` runs every 5 ms until all are done (e.g. to wake a peer).
public func eachOnItsOwnThread<T: Sendable, R: Sendable>(_ items: [T], whileWaiting: (() -> Void)? = nil,
                                                         _ body: @escaping @Sendable (T) throws -> R) throws -> [R] {
    let results = Mutex([Result<R, Error>?](repeating: nil, count: items.count))
    let done = DispatchGroup()
    for i in items.indices {
        done.enter()
        Thread {
            let r = Result { try body(items[i]) }
            results.withLock { $0[i] = r }
            done.leave()
        }.start()
    }
    if let whileWaiting {
        while done.wait(timeout: .now() + .milliseconds(5)) == .timedOut { whileWaiting() }
    } else {
        done.wait()
    }
    return try results.withLock { $0 }.map { try $0!.get() }
}

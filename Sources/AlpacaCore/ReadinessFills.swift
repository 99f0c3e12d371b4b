import OpsModel

/// One option fill held against the quote of its contract.
struct ReadinessFillCheck: Sendable, Equatable {
    var symbol: String
    var side: OrderSide
    var time: Timestamp
    var priceCents: Cents
    var bid: Double
    var ask: Double
    /// Half the quoted spread plus one tick, in cents.
    var boundCents: Double
    /// Against the trader: a buy above the mid, a sell below it (negative is price improvement).
    var slippageCents: Double
    var within: Bool
}

/// Item 6: every option fill's price against the quote mid of the latest chain at or before the fill that quotes
/// its contract. Bound: |fill − mid| ≤ half the quoted spread + one tick, i.e. inside the quoted bid/ask widened
/// by a tick. A fill with no such quote cannot be verified and fails the item, as does a record without option
/// fills. Stock fills (the fallback) have no quote topic here and are only counted.
enum ReadinessFills {
    static let bound = "|fill − mid| ≤ half spread + 1 tick"

    static func fillQuality(_ r: ReadinessRecord, ticks: TickRule) -> ReadinessItem {
        let trades = r.fills.filter { $0.payload.settlement == nil }
        let options = trades.filter { $0.payload.assetClass == .option }
        let quotes = ReadinessChainQuotes(r.chains)
        var checks = [ReadinessFillCheck](), unquoted = [Envelope<Fill>]()
        for f in options {
            if let c = check(f, quotes: quotes, ticks: ticks) { checks.append(c) } else { unquoted.append(f) }
        }
        let stock = trades.count - options.count
        return item(checks: checks, unquoted: unquoted, stockFills: stock)
    }

    static func check(_ f: Envelope<Fill>, quotes: ReadinessChainQuotes, ticks: TickRule) -> ReadinessFillCheck? {
        let fill = f.payload
        guard let q = quotes.latest(fill.symbol, underlying: fill.underlying, atOrBefore: f.eventTime) else { return nil }
        let mid = (q.bid + q.ask) * 50
        let tick = Double(ticks.tickCents(price: (q.bid + q.ask) / 2, underlying: fill.underlying))
        let bound = (q.ask - q.bid) * 50 + tick
        let off = Double(fill.priceCents) - mid
        // Micro-cents: quotes are binary doubles; a fill exactly on the bound is within it.
        let within = (abs(off) * 1_000_000).rounded() <= (bound * 1_000_000).rounded()
        return ReadinessFillCheck(symbol: fill.symbol, side: fill.side, time: f.eventTime, priceCents: fill.priceCents, bid: q.bid, ask: q.ask,
                         boundCents: bound, slippageCents: fill.side == .buy ? off : -off, within: within)
    }

    static func item(checks: [ReadinessFillCheck], unquoted: [Envelope<Fill>], stockFills: Int) -> ReadinessItem {
        let total = checks.count + unquoted.count
        let inside = checks.filter(\.within).count
        let stock = stockFills > 0 ? "; \(stockFills) stock fill(s) not judged (no stock quotes read)" : ""
        guard total > 0 else {
            return ReadinessItem(name: "fill_quality", passed: false, detail: "no option fills to judge (bound: \(bound))\(stock)",
                                 value: "0/0", limit: bound)
        }
        var detail = "\(inside)/\(total) option fills within \(bound)"
        if let worst = checks.max(by: { $0.slippageCents < $1.slippageCents }) {
            let mean = checks.map(\.slippageCents).reduce(0, +) / Double(checks.count)
            detail += "; slippage vs mid: worst \(ReadinessText.fixed(worst.slippageCents, 1))¢, mean \(ReadinessText.fixed(mean, 1))¢ a share"
        }
        if let out = checks.filter({ !$0.within }).max(by: { abs($0.slippageCents) - $0.boundCents < abs($1.slippageCents) - $1.boundCents }) {
            detail += "; outside e.g. \(out.side.rawValue) \(out.symbol) at \(Money.dollars(out.priceCents)) vs bid \(ReadinessText.fixed(out.bid, 2)) ask \(ReadinessText.fixed(out.ask, 2)) at \(out.time.iso8601)"
        }
        if !unquoted.isEmpty {
            detail += "; \(unquoted.count) without a quote of their contract at or before the fill (e.g. \(unquoted[0].payload.symbol) at \(unquoted[0].eventTime.iso8601))"
        }
        return ReadinessItem(name: "fill_quality", passed: inside == total, detail: detail + stock, value: "\(inside)/\(total)", limit: bound)
    }
}

/// The chains by underlying, in event-time order, to find a contract's latest quote at or before a time.
struct ReadinessChainQuotes {
    private var byUnderlying: [String: [Envelope<OptionChain>]] = [:]

    init(_ chains: [Envelope<OptionChain>]) {
        for c in chains { byUnderlying[c.payload.underlying, default: []].append(c) }
    }

    func latest(_ symbol: String, underlying: String, atOrBefore t: Timestamp) -> OptionQuote? {
        guard let chains = byUnderlying[underlying] else { return nil }
        // OCC symbols may come padded or compact; compare the canonical spelling.
        let wanted = OCCSymbol(symbol)?.description ?? symbol
        var hi = chains.count
        var lo = 0
        while lo < hi {   // the first chain after t
            let mid = (lo + hi) / 2
            if chains[mid].eventTime <= t { lo = mid + 1 } else { hi = mid }
        }
        for c in chains[..<lo].reversed() {
            if let q = c.payload.contracts.first(where: { (OCCSymbol($0.symbol)?.description ?? $0.symbol) == wanted }) { return q }
        }
        return nil
    }
}

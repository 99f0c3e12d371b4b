import Foundation
import OpsModel

/// Startup (and reconnect) reconciliation of holdings, and the account snapshots.
///
/// Alpaca is the truth about what the account holds. A contract the topics hold and Alpaca does not was settled
/// (expiry OPEXP, exercise OPEXC, assignment OPASN — the activities say which) or closed outside the pipeline; a
/// holding Alpaca has that the topics do not know is adopted, so the position-manager manages it like its own.
/// Either way the difference becomes a fill on the topics, with the reason in the warnings.
extension AlpacaLedger {
    public mutating func reconcile(positions: [Alpaca.Position], activities: [Alpaca.Activity], at t: Timestamp) -> Step {
        var step = Step()
        var atAlpaca = [String: Alpaca.Position]()
        for p in positions { atAlpaca[Alpaca.canonicalSymbol(p.symbol)] = p }
        // A contract with an order still working may have fills on their way: its difference is not settled yet.
        let working = Set(openClientIds.compactMap { orders[$0].map { Alpaca.canonicalSymbol($0.command.symbol) } })
        for symbol in Set(holdings.keys).union(atAlpaca.keys).sorted() where !working.contains(symbol) {
            let ours = holdings[symbol]?.quantity ?? 0
            let theirs = signedQuantity(atAlpaca[symbol])
            if theirs < ours {
                step.add(settle(symbol, quantity: ours - theirs, activity: settlement(of: symbol, in: activities), at: t))
            } else if theirs > ours, let p = atAlpaca[symbol] {
                step.add(adopt(p, quantity: theirs - ours, at: t))
            }
        }
        return step
    }

    func signedQuantity(_ p: Alpaca.Position?) -> Int {
        guard let p, let q = p.qty.whole else { return 0 }
        return p.side == "short" && q > 0 ? -q : q
    }

    /// The latest expiry/exercise/assignment activity of a contract.
    func settlement(of symbol: String, in activities: [Alpaca.Activity]) -> Alpaca.Activity? {
        activities.filter { ["OPEXP", "OPEXC", "OPASN"].contains($0.activityType) && $0.symbol.map(Alpaca.canonicalSymbol) == symbol }.last
    }

    /// Closes `quantity` the topics still hold: at the settlement's value when an activity explains it, else at
    /// zero (the conservative mark: the kill switches see the whole cost as lost until someone looks).
    mutating func settle(_ symbol: String, quantity: Int, activity: Alpaca.Activity?, at t: Timestamp) -> Step {
        var step = Step()
        guard let h = holdings[symbol] else { return step }
        let price = activity?.price?.roundedCents ?? 0
        let settlement: Fill.Settlement? = switch activity?.activityType {
        case "OPEXP": .expiredWorthless
        case "OPEXC", "OPASN": .settledItm
        default: nil
        }
        let why = activity.map { "Alpaca activity \($0.activityType) \($0.id)" } ?? "Alpaca holds \(h.quantity - quantity), the topics \(h.quantity); no activity explains it"
        let clientId = DeterministicID.make("reconcile", accountId, symbol, String(h.quantity), activity?.id ?? "none")
        let f = Fill(accountId: accountId, fillId: DeterministicID.make("fill", clientId), clientOrderId: clientId, symbol: h.symbol,
                     underlying: h.underlying, assetClass: h.assetClass, side: .sell, quantity: quantity, priceCents: price,
                     commissionCents: 0, feesCents: 0, orderTime: t, quoteTime: t, quoteBid: 0, quoteAsk: 0, intent: .close,
                     positionId: h.positionId, strategy: h.strategy, settlement: settlement)
        step.add(publish(f, at: t))
        step.warnings.append("closed \(quantity) \(h.symbol) at \(Money.dollars(price)): \(why)")
        return step
    }

    /// Takes over a holding found at Alpaca: an opening fill at Alpaca's average entry price, as a swing position.
    mutating func adopt(_ p: Alpaca.Position, quantity: Int, at t: Timestamp) -> Step {
        var step = Step()
        let symbol = Alpaca.canonicalSymbol(p.symbol)
        let occ = OCCSymbol(symbol)
        let clientId = DeterministicID.make("adopt", accountId, symbol, String(holdings[symbol]?.quantity ?? 0), String(quantity))
        let price = p.avgEntryPrice?.roundedCents ?? 0
        let f = Fill(accountId: accountId, fillId: DeterministicID.make("fill", clientId), clientOrderId: clientId, symbol: symbol,
                     underlying: occ?.root ?? symbol, assetClass: occ == nil ? .equity : .option, side: .buy, quantity: quantity,
                     priceCents: price, commissionCents: 0, feesCents: 0, orderTime: t, quoteTime: t, quoteBid: 0, quoteAsk: 0,
                     intent: .open, positionId: DeterministicID.make("position", clientId), strategy: .swingTrade)
        step.add(publish(f, at: t))
        step.warnings.append("adopted \(quantity) \(symbol) held at Alpaca that the topics did not know (average \(Money.dollars(price))); it is managed from now on")
        return step
    }

    mutating func publish(_ f: Fill, at t: Timestamp) -> Step {
        var step = Step()
        guard fillIds.insert(f.fillId).inserted else { return step }
        book(f)
        step.emits.append(Emit(Topics.fills, Envelope(id: f.fillId, eventTime: t, causationId: nil, source: Self.source, payload: f).erased()))
        return step
    }
}

// MARK: account snapshots

extension AlpacaLedger {
    public mutating func restore(snapshot s: AccountSnapshot) {
        guard s.accountId == accountId else { return }
        snapshotSeq = max(snapshotSeq, s.seq)
    }

    /// `GET /v2/account` as the next snapshot: Alpaca's balances to exact cents (sub-cent digits rounded half up),
    /// the option buying power as buying power, realized P&L and costs from the fills on the topics.
    public mutating func account(_ a: Alpaca.Account, at t: Timestamp) -> Step {
        var step = Step()
        if a.tradingBlocked == true || a.accountBlocked == true {
            step.warnings.append("Alpaca account \(a.id) is blocked (trading_blocked \(a.tradingBlocked ?? false), account_blocked \(a.accountBlocked ?? false))")
        }
        snapshotSeq += 1
        let cash = a.cash.roundedCents
        let buyingPower = (a.optionsBuyingPower ?? a.buyingPower)?.roundedCents ?? cash
        let equity = (a.equity ?? a.portfolioValue)?.roundedCents ?? cash
        let s = AccountSnapshot(accountId: accountId, seq: snapshotSeq, cashCents: cash, reservedCents: max(0, cash - buyingPower),
                                buyingPowerCents: buyingPower, positionsValueCents: equity - cash, equityCents: equity,
                                realizedPnlCents: realized, commissionsCents: costs, openOrders: openClientIds.count)
        let id = DeterministicID.make("account", accountId, String(snapshotSeq), t.iso8601)
        step.emits.append(Emit(Topics.accounts, Envelope(id: id, eventTime: t, causationId: nil, source: Self.source, payload: s).erased()))
        return step
    }
}

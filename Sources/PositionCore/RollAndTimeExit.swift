import OpsModel

extension ExitRule {
    /// `time_exit` (seed 000 #14): a swing option position with at most `dte` calendar days to expiration exits,
    /// long or short alike (the gamma and assignment risk of the last weeks is the same for either side). Day trades
    /// keep the before-the-close exit; the expiration-day rule stays for everything.
    public static func timeExit(dte: Int) -> ExitRule {
        ExitRule(name: "time_exit") { c in
            guard c.position.strategy == .swingTrade, let left = c.daysLeft, let exp = c.position.expiration, left <= dte else { return nil }
            return ExitSignal(rule: "time_exit", detail: "time_exit: \(left) days to expiration \(exp) ≤ \(dte)")
        }
    }

    /// `roll` (seed 000 #18): a profitable swing option position within `roll.dte` days of expiration whose
    /// underlying had a signal in its direction within `roll.signal_minutes` closes as the first leg of a roll; the
    /// dispatcher opens the second (the contract nearest the same delta in the next swing window) after its gates.
    public static func roll(_ r: TradingParams.RollParams) -> ExitRule {
        ExitRule(name: "roll") { c in
            let p = c.position
            guard p.strategy == .swingTrade, p.assetClass == .option, let left = c.daysLeft, left <= r.dte,
                  let mark = c.markCents, let pnl = PositionManagerCore.unrealized(p, mark: mark), pnl > 0,
                  let signal = c.lastSignalInDirection else { return nil }
            let age = c.time.ms - signal.ms
            guard age >= 0, age <= Int64(r.signalMinutes) * 60_000 else { return nil }
            let id = DeterministicID.make("roll", p.positionId, c.time.iso8601)
            return ExitSignal(rule: "roll", detail: "roll: \(left) days to expiration ≤ \(r.dte), unrealized \(Money.dollars(pnl)) > 0, \(p.direction.rawValue) signal \(age / 60_000) min ago ≤ \(r.signalMinutes)",
                              rollId: id)
        }
    }
}

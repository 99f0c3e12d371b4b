/// Which DispatchCore tests make each kill switch block (`Suite/test`, the Swift Testing type and function names,
/// as `swift test --filter` takes them). A kill switch the paper run never tripped counts as exercised when it is
/// here: a unit test at its boundaries and, where there is one, a test of the dispatcher's decision with it.
/// AlpacaCoreTests checks that every gate DispatchCore's `KillSwitches` can emit is a key and that every test named
/// exists.
public enum KillSwitchCoverage {
    /// The gate names of `KillSwitches` (seed 004 §2–3 and the operator halt), in the dispatcher's order.
    public static let gates = ["halt", "trading_hours", "daily_loss", "max_positions", "cooldown", "max_trades_per_ticker", "max_exposure"]

    public static let tests: [String: [String]] = [
        "halt": ["KillSwitchTests/haltInForceIsTheLatestCommandAtOrBeforeTheTime",
                 "DispatchGatesTests/aHaltBlocksEntriesFromItsMinuteAndShowsInEveryDecision"],
        "trading_hours": ["KillSwitchTests/tradingHours", "KillSwitchTests/tradingHoursAcrossDSTUseNewYorkTime"],
        "daily_loss": ["KillSwitchTests/dailyLossBlocksBelowTheLimit", "KillSwitchTests/aTrippedDailyLossStaysTrippedForTheSession",
                       "DispatchGatesTests/dailyLossCountsUnrealizedMarksAndStaysTripped"],
        "max_positions": ["KillSwitchTests/maxPositions", "DispatchGatesTests/positionLimitCountsOpenPositionsAndPendingEntries"],
        "cooldown": ["KillSwitchTests/cooldown", "DispatchCoreStateTests/ownOrdersCountUntilTheBrokerReports"],
        "max_trades_per_ticker": ["KillSwitchTests/maxTradesPerTicker", "DispatchGatesTests/entriesPerTickerAreCountedPerSession"],
        "max_exposure": ["KillSwitchTests/maxExposureCountsThisOrder", "DispatchGatesTests/exposureIncludesThisOrder"],
    ]
}

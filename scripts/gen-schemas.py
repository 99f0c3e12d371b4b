#!/usr/bin/env python3
"""Writes schemas/<type>.v<version>.schema.json (JSON Schema 2020-12) for every message type.

The schemas are the published contract of the topics; edit them here and re-run:  python3 scripts/gen-schemas.py
"""
import json, os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "schemas")
ts = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$"}
date = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
ticker = {"type": "string", "pattern": r"^[A-Z][A-Z0-9./-]{0,9}$"}
nnum = {"type": ["number", "null"]}
cents = {"type": "integer"}
pcents = {"type": "integer", "minimum": 1}
nullable = lambda s: {"anyOf": [s, {"type": "null"}]}
occ = {"type": "string", "pattern": r"^[A-Z][A-Z0-9. ]{0,5}\d{6}[CP]\d{8}$"}
strategy = {"enum": ["day_trade", "swing_trade"]}
direction = {"enum": ["BULL", "BEAR"]}

def obj(props, required=None):
    return {"type": "object", "required": required if required is not None else list(props), "properties": props, "additionalProperties": False}

def envelope(type_, payload, desc, version=1):
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://ops-pipeline.local/schemas/{type_}.v{version}.schema.json",
        "title": f"{type_} v{version}", "description": desc, "type": "object",
        "required": ["type", "version", "id", "event_time", "causation_id", "source", "payload"],
        "properties": {
            "type": {"const": type_}, "version": {"const": version}, "id": {"type": "string", "minLength": 1},
            "event_time": ts, "causation_id": {"type": ["string", "null"]}, "source": {"type": "string", "minLength": 1},
            "payload": payload, "produced_at": ts,
        },
        "additionalProperties": False,
    }

bar = obj({
    "ticker": ticker, "interval": {"enum": ["1m", "5m", "15m", "30m", "1h"]}, "start": ts, "end": ts,
    "open": {"type": "number", "exclusiveMinimum": 0}, "high": {"type": "number", "exclusiveMinimum": 0},
    "low": {"type": "number", "exclusiveMinimum": 0}, "close": {"type": "number", "exclusiveMinimum": 0},
    "volume": {"type": "integer", "minimum": 0}, "vwap": {"type": ["number", "null"], "exclusiveMinimum": 0},
    "trades": {"type": ["integer", "null"], "minimum": 0}}, required=["ticker", "interval", "start", "end", "open", "high", "low", "close", "volume"])
quote = obj({
    "symbol": occ, "right": {"enum": ["call", "put"]}, "strike": {"type": "number", "exclusiveMinimum": 0}, "expiration": date,
    "bid": {"type": "number", "minimum": 0}, "ask": {"type": "number", "minimum": 0}, "last": {"type": ["number", "null"], "minimum": 0},
    "volume": {"type": "integer", "minimum": 0}, "open_interest": {"type": "integer", "minimum": 0},
    "iv": {"type": ["number", "null"], "minimum": 0}, "delta": {"type": ["number", "null"], "minimum": -1, "maximum": 1},
    "gamma": nnum, "theta": nnum, "vega": nnum}, required=["symbol", "right", "strike", "expiration", "bid", "ask", "volume", "open_interest"])
chain = obj({"underlying": ticker, "underlying_price": {"type": "number", "exclusiveMinimum": 0}, "as_of": ts, "contracts": {"type": "array", "items": quote}})
sentiment = obj({"ticker": ticker, "score": {"type": "number", "minimum": -1, "maximum": 1}, "source": {"type": "string", "minLength": 1},
                 "articles": {"type": ["integer", "null"], "minimum": 0}}, required=["ticker", "score", "source"])
pct100 = {"type": ["number", "null"], "minimum": 0, "maximum": 100}
features = obj({
    "ticker": ticker, "interval": {"type": "string"}, "session_date": date, "session_bar_index": {"type": "integer", "minimum": 0},
    "gap_minutes": {"type": ["integer", "null"], "minimum": 0}, "bar": bar,
    "sma20": nnum, "distance_sma20": nnum, "sma20_slope": nnum, "slope_lookback": {"type": "integer", "minimum": 1},
    "volume_ratio": {"type": ["number", "null"], "minimum": 0}, "close_5m_ago": nnum, "close_15m_ago": nnum,
    "ret_1m": nnum, "ret_5m": nnum, "ret_15m": nnum, "atr14": {"type": ["number", "null"], "minimum": 0},
    "sentiment_score": {"type": ["number", "null"], "minimum": -1, "maximum": 1}, "sentiment_time": nullable(ts),
    "atm_iv": {"type": ["number", "null"], "minimum": 0}, "chain_time": nullable(ts),
    "iv_percentile": pct100, "iv_rank": pct100},
    required=["ticker", "interval", "session_date", "session_bar_index", "gap_minutes", "bar", "sma20", "distance_sma20", "sma20_slope",
              "slope_lookback", "volume_ratio", "close_5m_ago", "close_15m_ago", "ret_1m", "ret_5m", "ret_15m", "atr14",
              "sentiment_score", "sentiment_time", "atm_iv", "chain_time"])
iv_daily = obj({"ticker": ticker, "date": date, "atm_iv": {"type": "number", "exclusiveMinimum": 0, "maximum": 10}})
atm_iv = obj({"ticker": ticker, "atm_iv": {"type": "number", "minimum": 0}})
dead = obj({"topic": {"type": "string"}, "partition": {"type": "integer"}, "offset": {"type": "integer"}, "key": {"type": ["string", "null"]},
            "original_base64": {"type": "string", "pattern": r"^[A-Za-z0-9+/]*={0,2}$"}, "original_text": {"type": ["string", "null"]},
            "error_kind": {"enum": ["malformed", "unknown_type", "unknown_version", "invalid", "conflict", "late"]},
            "reason": {"type": "string", "minLength": 1}, "service": {"type": "string", "minLength": 1}})
wm = obj({"producer": {"type": "string", "minLength": 1}, "covers": {"type": "array", "minItems": 1, "items": obj({
    "topic": {"type": "string", "description": "An input topic; or SERVICE#accounts, the share of the accounts a replica owns (partition I of N replicas)."}, "partitions": {"type": "array", "items": {"type": "integer", "minimum": 0}}, "of": {"type": "integer", "minimum": 1}})}})
rule = obj({"rule": {"type": "string"}, "passed": {"type": "boolean"}, "contribution": {"type": "number"}, "detail": {"type": "string"}})
signal = obj({"ticker": ticker, "direction": direction, "instrument": {"enum": ["CALL", "PUT", "STOCK"]}, "strategy": strategy,
              "confidence": {"type": "number", "minimum": 0, "maximum": 1}, "volume_ratio": {"type": ["number", "null"], "minimum": 0},
              "price": {"type": "number", "exclusiveMinimum": 0}, "features_id": {"type": "string", "minLength": 1},
              "rules": {"type": "array", "items": rule}, "reason": {"type": "string"},
              "iv_percentile": pct100, "iv_rank": pct100, "atr14": {"type": ["number", "null"], "minimum": 0}},
             required=["ticker", "direction", "instrument", "strategy", "confidence", "price", "features_id", "rules", "reason"])
order = obj({"account_id": {"type": "string", "minLength": 1}, "client_order_id": {"type": "string", "minLength": 1, "maxLength": 48},
             "symbol": {"type": "string"}, "underlying": ticker, "asset_class": {"enum": ["option", "equity"]}, "side": {"enum": ["buy", "sell"]},
             "quantity": {"type": "integer", "minimum": 1}, "limit_price_cents": pcents, "intent": {"enum": ["open", "close"]},
             "position_id": {"type": ["string", "null"]}, "strategy": strategy, "reason": {"type": "string"},
             "replaces_client_order_id": {"type": ["string", "null"]}, "roll_id": {"type": ["string", "null"]}},
            required=["account_id", "client_order_id", "symbol", "underlying", "asset_class", "side", "quantity", "limit_price_cents", "intent", "strategy", "reason"])
unit = {"type": "number", "minimum": 0, "maximum": 1}
score = obj({"total": unit, "spread": unit, "open_interest": unit, "volume": unit, "delta": unit})
contract = obj({"symbol": occ, "right": {"enum": ["call", "put"]}, "strike": {"type": "number"}, "expiration": date, "dte": {"type": "integer", "minimum": 0},
                "bid": {"type": "number"}, "ask": {"type": "number"}, "mid": {"type": "number"}, "spread_pct": {"type": "number"},
                "volume": {"type": "integer"}, "open_interest": {"type": "integer"}, "delta": nnum, "score": nullable(score)},
               required=["symbol", "right", "strike", "expiration", "dte", "bid", "ask", "mid", "spread_pct", "volume", "open_interest"])
num = {"type": "number"}
position_greeks = obj({"iv": {"type": "number", "minimum": 0}, "delta": {"type": "number", "minimum": -1, "maximum": 1}, "gamma": num,
                       "theta": num, "vega": num, "rho": num, "underlying_price": {"type": "number", "exclusiveMinimum": 0}, "years": num})
portfolio_greeks = obj({"account_id": {"type": "string", "minLength": 1}, "delta": num, "gamma": num, "theta": num, "vega": num, "rho": num,
                        "dollar_delta": num, "dollar_gamma": num, "positions": {"type": "integer", "minimum": 0},
                        "unpriced": {"type": "integer", "minimum": 0}})
option_gate = obj({"passed": {"type": "boolean"}, "reason": {"type": "string"}, "fallback": {"type": "boolean"}})
sizing = obj({"tier": {"type": "string"}, "strategy": strategy, "risk_pct": {"type": "number", "minimum": 0, "maximum": 1},
              "buying_power_cents": cents, "risk_cents": cents, "premium_cents": cents, "cost_per_contract_cents": cents,
              "contracts": {"type": "integer", "minimum": 0}, "max_contracts": {"type": "integer", "minimum": 1}, "total_cost_cents": cents,
              "minimum_contract_rule": {"type": "boolean"}, "rationale": {"type": "string", "pattern": "^Tier: "},
              "unit": {"enum": ["shares", None]}, "method": {"enum": ["tier", "kelly", "atr", "scale_in", "roll", None]},
              "sized_contracts": {"type": ["integer", "null"], "minimum": 0}},
             required=["tier", "strategy", "risk_pct", "buying_power_cents", "risk_cents", "premium_cents", "cost_per_contract_cents",
                       "contracts", "max_contracts", "total_cost_cents", "minimum_contract_rule", "rationale"])
gate = obj({"gate": {"type": "string"}, "passed": {"type": "boolean"}, "detail": {"type": "string"},
            "value": {"type": ["string", "null"]}, "limit": {"type": ["string", "null"]}}, required=["gate", "passed", "detail"])
decision = obj({"account_id": {"type": "string"}, "signal_id": {"type": "string"}, "ticker": ticker, "direction": direction, "strategy": strategy,
                "confidence": {"type": "number"}, "outcome": {"enum": ["order", "skip"]}, "skip_reason": {"type": ["string", "null"]},
                "gates": {"type": "array", "items": gate, "minItems": 1}, "contract": nullable(contract), "sizing": nullable(sizing),
                "order": nullable(order), "buying_power_cents": cents, "open_positions": {"type": "integer", "minimum": 0},
                "exposure_cents": cents, "day_realized_pnl_cents": cents, "route": {"enum": ["option", "stock", "stock_fallback", "roll", None]},
                "option_gate": nullable(option_gate), "candidates": {"anyOf": [{"type": "array", "items": contract}, {"type": "null"}]},
                "day_pnl_cents": {"type": ["integer", "null"]}, "halt": {"type": ["string", "null"]},
                "kind": {"enum": ["entry", "scale_in", "roll", None]}, "position_id": {"type": ["string", "null"]},
                "roll_id": {"type": ["string", "null"]}, "portfolio_greeks": nullable(portfolio_greeks),
                "underlying_price": {"type": ["number", "null"], "exclusiveMinimum": 0}, "atr14": {"type": ["number", "null"], "minimum": 0},
                "params_version": {"type": ["integer", "null"], "minimum": 0}},
               required=["account_id", "signal_id", "ticker", "direction", "strategy", "confidence", "outcome", "gates", "buying_power_cents", "open_positions", "exposure_cents", "day_realized_pnl_cents"])
order_event = obj({"account_id": {"type": "string"}, "client_order_id": {"type": "string"}, "status": {"enum": ["accepted", "rejected", "partially_filled", "filled", "cancelled"]},
                   "symbol": {"type": "string"}, "side": {"enum": ["buy", "sell"]}, "quantity": {"type": "integer", "minimum": 1},
                   "filled_quantity": {"type": "integer", "minimum": 0}, "fill_price_cents": {"type": ["integer", "null"]},
                   "intent": {"enum": ["open", "close"]}, "position_id": {"type": ["string", "null"]}, "reason": {"type": "string"}},
                  required=["account_id", "client_order_id", "status", "symbol", "side", "quantity", "filled_quantity", "intent", "reason"])
fill = obj({"account_id": {"type": "string"}, "fill_id": {"type": "string"}, "client_order_id": {"type": "string"}, "symbol": {"type": "string"},
            "underlying": ticker, "asset_class": {"enum": ["option", "equity"]}, "side": {"enum": ["buy", "sell"]}, "quantity": {"type": "integer", "minimum": 1},
            "price_cents": pcents, "commission_cents": {"type": "integer", "minimum": 0}, "fees_cents": {"type": "integer", "minimum": 0},
            "order_time": ts, "quote_time": ts, "quote_bid": {"type": "number"}, "quote_ask": {"type": "number"},
            "intent": {"enum": ["open", "close"]}, "position_id": {"type": ["string", "null"]}, "strategy": strategy,
            "settlement": {"enum": ["settled_itm", "expired_worthless", None]}, "underlying_price": {"type": ["number", "null"], "exclusiveMinimum": 0}},
           required=["account_id", "fill_id", "client_order_id", "symbol", "underlying", "asset_class", "side", "quantity", "price_cents", "commission_cents", "fees_cents", "order_time", "quote_time", "quote_bid", "quote_ask", "intent", "strategy"])
# A trade prints at a positive price; only an expiry settlement may be 0 (expired worthless).
fill["properties"]["price_cents"] = {"type": "integer", "minimum": 0}
fill["if"] = {"properties": {"settlement": {"enum": ["settled_itm", "expired_worthless"]}}, "required": ["settlement"]}
fill["then"] = {"properties": {"side": {"const": "sell"}, "intent": {"const": "close"}, "commission_cents": {"const": 0}, "fees_cents": {"const": 0}}}
fill["else"] = {"properties": {"price_cents": pcents}}
account = obj({"account_id": {"type": "string"}, "seq": {"type": "integer", "minimum": 1}, "cash_cents": cents, "reserved_cents": {"type": "integer", "minimum": 0},
               "buying_power_cents": cents, "positions_value_cents": {"type": "integer", "minimum": 0}, "equity_cents": cents,
               "realized_pnl_cents": cents, "commissions_cents": {"type": "integer", "minimum": 0}, "open_orders": {"type": "integer", "minimum": 0}})
position = obj({"event": {"enum": ["opened", "marked", "exit_requested", "closed"]}, "position_id": {"type": "string"}, "account_id": {"type": "string"},
                "symbol": {"type": "string"}, "underlying": ticker, "strategy": strategy, "quantity": {"type": "integer", "minimum": 1},
                "entry_price_cents": pcents, "entry_cost_cents": cents, "opened_at": ts, "expiration": nullable(date),
                "mark_price_cents": {"type": ["integer", "null"]}, "unrealized_pnl_cents": {"type": ["integer", "null"]},
                "exit_reason": {"type": ["string", "null"]}, "exit_price_cents": {"type": ["integer", "null"]},
                "realized_pnl_cents": {"type": ["integer", "null"]}, "closed_at": nullable(ts),
                "asset_class": {"enum": ["option", "equity", None]}, "exit_step": {"type": ["integer", "null"], "minimum": 0},
                "detail": {"type": ["string", "null"]}, "remaining_quantity": {"type": ["integer", "null"], "minimum": 0},
                "high_water_cents": {"type": ["integer", "null"]}, "stop_cents": {"type": ["integer", "null"]},
                "target_cents": {"type": ["integer", "null"]}, "stop_basis": {"enum": ["premium", "underlying", None]},
                "greeks": nullable(position_greeks), "roll_id": {"type": ["string", "null"]},
                "scale_in_pending": {"type": ["integer", "null"], "minimum": 0}, "direction": {"enum": ["BULL", "BEAR", None]},
                "entry_underlying_price": {"type": ["number", "null"], "exclusiveMinimum": 0}},
               required=["event", "position_id", "account_id", "symbol", "underlying", "strategy", "quantity", "entry_price_cents", "entry_cost_cents", "opened_at"])

unit = {"type": "number", "minimum": 0, "maximum": 1}
watchlist_entry = obj({
    "ticker": ticker, "rank": {"type": "integer", "minimum": 1}, "selected": {"type": "boolean"}, "score": unit,
    "sentiment_momentum": unit, "liquidity": unit, "technical_setup": unit, "volatility": unit,
    "avg_daily_volume_score": unit, "spread_quality_score": unit, "open_interest_score": unit,
    "avg_daily_volume": {"type": ["number", "null"], "minimum": 0}, "volume_sessions": {"type": "integer", "minimum": 0},
    "spread_pct": {"type": ["number", "null"], "minimum": 0}, "open_interest": {"type": ["integer", "null"], "minimum": 0},
    "chain_time": nullable(ts), "sentiment_mean": {"type": ["number", "null"], "minimum": -1, "maximum": 1},
    "sentiment_count": {"type": "integer", "minimum": 0}, "sma20_slope": nnum, "atr14": {"type": ["number", "null"], "minimum": 0},
    "atm_iv": {"type": ["number", "null"], "minimum": 0}, "move_to_implied": {"type": ["number", "null"], "minimum": 0}},
    required=["ticker", "rank", "selected", "score", "sentiment_momentum", "liquidity", "technical_setup", "volatility",
              "avg_daily_volume_score", "spread_quality_score", "open_interest_score", "volume_sessions", "sentiment_count"])
watchlist = obj({"as_of": ts, "session_date": date, "boundary": {"enum": ["open", "interval"]}, "size": {"type": "integer", "minimum": 1},
                 "tickers": {"type": "array", "items": ticker, "uniqueItems": True}, "entries": {"type": "array", "items": watchlist_entry}})

control = obj({"account_id": {"type": "string", "minLength": 1}, "action": {"enum": ["halt", "resume"]}, "reason": {"type": "string"},
               "flatten": {"type": "boolean"}, "requested_by": {"type": "string"}})

params_change = obj({"account_id": {"type": ["string", "null"], "minLength": 1}, "params_version": {"type": "integer", "minimum": 1},
                     "changes": {"type": "object", "minProperties": 1, "additionalProperties": {"type": "string"}},
                     "reason": {"type": "string", "minLength": 1}, "requested_by": {"type": "string"}})

partition_start = obj({"topic": {"type": "string", "minLength": 1}, "partition": {"type": "integer", "minimum": 0},
                       "next": {"type": "integer", "minimum": -2}, "applied": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                       "watermark": nullable(ts)},
                      required=["topic", "partition", "next", "applied"])
state_snapshot = obj({"service": {"type": "string", "minLength": 1}, "group": {"type": "string", "minLength": 1},
                      "partitions": {"type": "array", "items": partition_start, "minItems": 1}, "state": {"type": "string"}})

SPECS = [
    ("bar", bar, "One OHLCV bar; event_time is the bar end. Topic market.bars.v1, key ticker."),
    ("option_chain", chain, "An option-chain snapshot; event_time is as_of. Topic market.chains.v1, key underlying."),
    ("sentiment", sentiment, "A sentiment score in [-1, 1]. Topic market.sentiment.v1, key ticker."),
    ("atm_iv", atm_iv, "One option chain's at-the-money implied volatility (fraction), published with the chain at its as_of (chains without one have none). Topic market.atm-iv.v1, key ticker."),
    ("iv_daily", iv_daily, "A session's at-the-money implied volatility (fraction), from its last chain; event_time is the session's close. Topic market.iv-daily.v1, key ticker."),
    ("features", features, "The feature vector of one regular-session bar; nulls mean not computable yet. Topic strategy.features.v1, key ticker."),
    ("dead_letter", dead, "Input a service refused, with the original bytes and the reason. Topic ops.deadletter.v1."),
    ("watermark", wm, "In-band promise: the producer has emitted everything up to event_time derived from the covered input partitions."),
    ("signal", signal, "A BULL/BEAR trade idea with its confidence broken down rule by rule. Topic strategy.signals.v1, key ticker."),
    ("decision", decision, "Every signal's outcome: an order or a skip, with every gate's result and the sizing. Topic trading.decisions.v1, key account."),
    ("order_command", order, "Place an order (entries from the dispatcher, exits from the position-manager). Money in cents. Topic trading.orders.v1, key account."),
    ("order_event", order_event, "What happened to an order at the broker. Topic trading.order-events.v1, key account."),
    ("fill", fill, "An execution (of all or part of an order) against the first quote or bar after the order, or an expiry settlement (settlement set, price ≥ 0). Money in cents. Topic trading.fills.v1, key account."),
    ("account", account, "The broker account: cash, reserved, buying power, positions value, equity (cents). Topic trading.accounts.v1, key account."),
    ("control", control, "An operator's halt (optionally flatten) or resume of an account; not watermarked. Topic ops.control.v1, key account."),
    ("params_change", params_change, "A live change of trading parameters (dotted keys of trading_params.json, values as JSON text) for one account or every account (null), in force from event_time in every service; not watermarked. Topic ops.params.v1 (compacted), every partition, key account#params_version."),
    ("position", position, "A position opened, marked, asked to exit, or closed with realized P&L (cents). Topic trading.positions.v1, key position id."),
    ("portfolio_greeks", portfolio_greeks, "An account's portfolio Greeks (seed 000 #15) at a mark minute: Σ greek × 100 × signed contracts, dollar delta and dollar gamma. Topic trading.greeks.v1, key account."),
    ("state_snapshot", state_snapshot, "A stateful service's state (the core's own JSON in state) and, per input partition, the first offset not in it, the offsets past it already in it and the watermark; a restart takes it and reads only what follows. Topic ops.snapshots.v1 (compacted), key consumer group; not recorded by default."),
    ("watchlist", watchlist, "The watchlist-engine's ranking (seed 004 §5: sentiment momentum, liquidity, technical setup, volatility) and its top-N set, at each session open and every watchlist.every_minutes. Topic strategy.watchlist.v1, the same message on every partition."),
]

for name, payload, desc in SPECS:
    with open(os.path.join(ROOT, f"{name}.v1.schema.json"), "w") as f:
        json.dump(envelope(name, payload, desc), f, indent=2)
        f.write("\n")
print(f"wrote {len(SPECS)} schemas to {os.path.normpath(ROOT)}")

"""The trend watcher: one short run per tick of a Temporal Schedule (``careflow setup`` and
``careflow up`` create it; ``CAREFLOW_TREND_INTERVAL``).

Each tick loads the rule file (``load_rules``), counts each trend's topic per segment through
visibility (``count_trends``, never reading a history), compares the count with the median of the
same window on the last 7 days, and for each pair that crosses its threshold starts one
proactive-post workflow (``start_proactive``; its id names the trend, the segment and the
period, so a spike never drafts twice). A pair fires when it crosses, not again while it stays
above. The tick's result is the state the next tick starts from (the schedule's last
completion result): counts of the last 7 days per pair, nothing more (``trend_watch_logic``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.types import LOAD_RULES, RulesSource
    from careflow.engine.durations import humanize_duration, parse_duration
    from careflow.engine.ruleset import Ruleset, compiled_ruleset
    from workflows import engine_version
    from workflows import trend_watch_logic as logic
    from workflows.proactive_types import ProactiveInput
    from workflows.trend_types import (
        COUNT_TRENDS,
        START_PROACTIVE,
        TREND_WATCH_WORKFLOW,
        CountRequest,
        CountResult,
        StartRequest,
        StartResult,
        TrendWatchInput,
        WatcherState,
    )

TICK_TIMEOUT = timedelta(minutes=2)
TICK_RETRY = RetryPolicy(maximum_attempts=3)  # a tick that cannot count waits for the next
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def proactive_id(trend: str, segment: str, period: int) -> str:
    """One proactive post per trend, segment and period (epoch seconds of the window's start)."""
    return f"proactive-{trend}-{_UNSAFE.sub('_', segment)[:60]}-{period}"


@workflow.defn(name=TREND_WATCH_WORKFLOW)
class TrendWatchWorkflow:
    """One tick of the trend watch."""

    @workflow.run
    async def run(self, input: TrendWatchInput) -> WatcherState:
        state = input.state or self._last_state()
        state.fired = []
        source: RulesSource = await workflow.execute_activity(
            LOAD_RULES,
            input.rules_path,
            result_type=RulesSource,
            start_to_close_timeout=TICK_TIMEOUT,
            retry_policy=TICK_RETRY,
        )
        # Each tick is its own workflow: it picks its engine version as an inquiry does.
        engine = engine_version.chosen_version()
        ruleset = compiled_ruleset(source.text, source.digest, source.file, engine=engine)
        end = logic.aligned(workflow.now(), input.interval_seconds)
        pairs = self._pairs(ruleset)
        windows = logic.wanted(state, pairs, end, workflow.now())
        if windows:
            result: CountResult = await workflow.execute_activity(
                COUNT_TRENDS,
                CountRequest(windows=windows),
                result_type=CountResult,
                start_to_close_timeout=TICK_TIMEOUT,
                retry_policy=TICK_RETRY,
            )
            logic.record(state, windows, result.counts, input.interval_seconds)
        stamp = int(end.timestamp())
        above: list[str] = []
        for pair in pairs:
            count = logic.count_at(state, pair.key, stamp) or 0
            median = logic.baseline(state, pair, end)
            if not logic.crosses(pair, count, median):
                continue
            above.append(pair.key)
            if pair.key not in state.above:
                await self._start(ruleset, pair, count, median, stamp)
                state.fired.append(
                    proactive_id(pair.trend.name, pair.segment, self._period(pair, stamp))
                )
        state.above = above
        state.ticks += 1
        logic.prune(state, pairs, end)
        return state

    def _last_state(self) -> WatcherState:
        if workflow.has_last_completion_result():
            last = workflow.get_last_completion_result(WatcherState)
            if isinstance(last, WatcherState):
                return last
        return WatcherState()

    def _pairs(self, ruleset: Ruleset) -> list[logic.Pair]:
        segments = ruleset.values_set("segment")
        return [
            logic.Pair(trend, segment, int(parse_duration(trend.window).total_seconds()))
            for trend in ruleset.rule_file.trends
            for segment in ([trend.segment] if trend.segment is not None else segments)
        ]

    @staticmethod
    def _period(pair: logic.Pair, stamp: int) -> int:
        return stamp - stamp % pair.window_seconds

    async def _start(
        self, ruleset: Ruleset, pair: logic.Pair, count: int, median: float, stamp: int
    ) -> None:
        trend = pair.trend
        rule_file = ruleset.rule_file
        brand = rule_file.brand
        variables = {
            "trend": {
                "name": trend.name,
                "topic": trend.topic,
                "segment": pair.segment,
                "count": count,
                "baseline": median,
                "window": humanize_duration(parse_duration(trend.window)),
                "post_url": "",
            },
            "brand": {"name": brand.name or rule_file.name, "handle": brand.handle or ""},
        }
        period = self._period(pair, stamp)
        target = rule_file.targets.get(trend.approvers)
        request = StartRequest(
            workflow_id=proactive_id(trend.name, pair.segment, period),
            template=rule_file.templates[trend.template],
            input=ProactiveInput(
                trend=trend.name,
                topic=trend.topic,
                segment=pair.segment,
                period_start=datetime.fromtimestamp(period, UTC),
                count=count,
                baseline=median,
                channel=trend.channel,
                draft="",
                approvers=trend.approvers,
                approvers_webhook=target.webhook if target is not None else None,
                wait_seconds=int(parse_duration(trend.wait).total_seconds()),
                reply_template=(
                    rule_file.templates[trend.reply_template] if trend.reply_template else None
                ),
                variables=variables,
            ),
        )
        await workflow.execute_activity(
            START_PROACTIVE,
            request,
            result_type=StartResult,
            start_to_close_timeout=TICK_TIMEOUT,
            retry_policy=TICK_RETRY,
        )

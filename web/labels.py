"""Simplified-Chinese labels for what the node reports in English identifiers."""

from __future__ import annotations

END_REASONS = {
    "flow_complete": "正常结束",
    "local_hangup": "正常结束",
    "remote_hangup": "市民挂断",
    "agent_hung_up": "坐席挂断",
    "transferred": "已转接",
    "worker_lost": "线路中断",
    "hub_lost": "系统中断",
    "rtp_timeout": "媒体超时",
    "max_duration": "超过最长通话时长",
    "cancelled": "未接通即挂断",
    "rejected": "系统拒接",
    "shutdown": "系统停机",
    "prompt_failed": "语音提示失败",
    "hangup_unconfirmed": "挂机未确认",
}


def end_reason_label(reason: str | None) -> str:
    """``remote_hangup`` → 市民挂断; unknown reasons are shown as they are."""
    if not reason:
        return "—"
    if reason.startswith("timeout_in_"):
        return "流程超时"
    return END_REASONS.get(reason, reason)

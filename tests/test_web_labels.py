"""web.labels: what the consoles show for the node's end reasons."""

from web.labels import end_reason_label


def test_end_reasons_read_in_chinese() -> None:
    assert end_reason_label("remote_hangup") == "市民挂断"
    assert end_reason_label("flow_complete") == "正常结束"
    assert end_reason_label("timeout_in_listening") == "流程超时"
    assert end_reason_label("") == "—"
    assert end_reason_label("something_new") == "something_new"  # never hidden

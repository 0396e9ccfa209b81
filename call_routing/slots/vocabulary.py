"""Words and characters shared by the name, address and organisation rules: the
characters that end a name, those a name may be made of, the words in front of a
name that are no part of it, and everyday words that end like a place."""

from __future__ import annotations

import re

from call_routing.places import words

# Characters that end a name, a place or a business name: pronouns, particles,
# fillers, prepositions and the commonest verbs around them.
STOP_CHARS = frozenset(
    "我你您他她它们咱在住是的了着过和与及就那这哪个些嗯喂啊呀吧呢吗哦噢哎唉呃诶嘛啦咯喔"
    "有要去到从给跟把被让说讲想问还也都很对向往离靠近又再而但却说话打电找帮请"
)
# A character that may be part of the name of a place or a business.
_NAME_CHAR = rf"[^\s{''.join(sorted(STOP_CHARS))}，。！？、；：,.!?;:\"'“”‘’（）()《》0-9a-zA-Z号]"
# Generic words that end like a place but are none.
_NOT_PLACES = frozenset(
    words(
        "城镇 乡镇 小镇 古镇 村镇 农村 乡村 城中村 新农村 山村 本村 全村 同村 邻村 整村 该村 "
        "马路 道路 公路 铁路 线路 电路 走路 修路 思路 出路 小路 大路 山路 问路 迷路 带路 让路 "
        "拦路 挡路 堵路 占路 绕路 一路 半路 上路 赶路 水路 网路 套路 过马路 逛街 上街 沿街 临街 "
        "满街 一条街 小巷 街巷 大街小巷 回家路"
    )
)
# Words in front of a business or place name that are not part of it.
_LEAD_TRIM = re.compile(
    r"^(?:投诉|举报|反映|反应|咨询|请问|问下|问一下|就是|那个|这个|还有|然后|今天|昨天|前天|"
    r"刚才|现在|早上|晚上|上午|下午|中午|楼下|楼上|附近|旁边|对面|隔壁|一家|一间|一个|一所|"
    r"地址|位于|位置|叫做|叫|名叫|属于)+"
)

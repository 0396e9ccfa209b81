"""Danger now to life or property (紧急警情) in a caller's words, and the number the
call goes to: 119 (fire and rescue), 110 (police) or 120 (ambulance).

``detect_emergency(text, numbers)`` is rule-based and transparent: a table of cue
patterns, each with a kind and a weight, and guard patterns that set a cue aside
when it is negated (没有着火), in the past (上个月着火了想问赔偿), hypothetical
(万一着火), about fees (煤气费), or a word that only looks like a cue (火锅, 跳楼价).
Recall comes first: a missed emergency is far worse than a false alarm an agent
confirms, so a present-time word (现在, 又, 救命…) overrides past and
hypothetical guards, and doubt (是不是着火了) is not a negation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

# --------------------------------------------------------------------------- tables

DEFAULT_NUMBERS: dict[str, str] = {"fire": "119", "police": "110", "medical": "120"}

# Which service answers each kind (电梯困人, a child locked in a car, drowning and
# collapses are rescue work for the fire brigade in China).
SERVICE_OF_KIND: dict[str, str] = {
    "fire": "fire",
    "gas": "fire",
    "explosion": "fire",
    "trapped": "fire",
    "locked_in_car": "fire",
    "drowning": "fire",
    "collapse": "fire",
    "flood": "fire",
    "power_line": "fire",
    "suicide": "police",
    "violence": "police",
    "weapon": "police",
    "distress": "police",
    "traffic": "police",
    "missing": "police",
    "medical": "medical",
    "electric_shock": "medical",
}

THRESHOLD = 0.5  # weaker cues count only with an urgent word (+0.1) or another cue

_PERSON = r"(?:有人|个人|人|男人|女人|男的|女的|后生仔|小孩|孩子|学生|老人|阿伯|阿婆|佢|他|她)"
_GAS = r"(?:煤|媒|霉|燃|天然|液化|石油)[气汽器]"
_LIFT = r"(?:电梯|𨋢|升降机)"
_KID = r"(?:小孩|孩子|小朋友|婴儿|宝宝|bb仔|bb|细路|细蚊仔|BB|老人|狗)"
_WATER = r"(?:水|河|江|海|塘|鱼塘|池塘|水塘|水库|湖|泳池|井|涌)"
_WEAPON = r"(?:刀|菜刀|砍刀|西瓜刀|水果刀|斧头|铁棍|枪|刀仔)"
_NOT = r"(?:没|冇|唔|不)有?晒?"

# (kind, weight, pattern, unless): ``unless`` is searched in the cue's sentence and
# sets the cue aside (燒烤油烟 is pollution, 钥匙锁在车里 is no child).
CUES: tuple[tuple[str, float, str, str], ...] = (
    # fire and smoke
    (
        "fire",
        0.9,
        r"着火|著火|起火|失火|火灾|火警|火烛|着咗火|着左火|火着了|烧起来|烧起嚟|"
        r"烧着了|烧着咗|烧紧|火烧屋|火烧房",
        "",
    ),
    (
        "fire",
        0.75,
        r"火烧|冒火(?!花)|明火|火光|火苗|火势|大火|好大火|火好大|火很大|在烧|着伙|著伙|"
        r"失伙|走火|(?:楼|层|车间|厨房|屋|房间|店|仓库)[^，。]{0,2}有火",
        r"每天|经常|天天|每晚|垃圾|秸秆|轮胎|电线|纸钱|焚烧|提炼",
    ),
    (
        "fire",
        0.7,
        r"冒烟|冒黑烟|浓烟|黑烟|好大烟|好多烟|烟好大|烟很大|很大的烟|大量烟|烟雾|"
        r"满屋烟|全是烟|呛死人|烟味好重|好大烟味",
        r"油烟|烧烤|抽烟|吸烟|香烟|烟头|烟草|烟囱|排烟|报警器|烟感|炊烟|二手烟|电子烟|烟花|"
        r"秸秆|烧垃圾|焚烧|工厂|厂里|排放|每天|经常|天天|每晚|污染|烧电线|卖铜|炸锅|商家|买的",
    ),
    (
        "fire",
        0.55,
        r"烧焦味|烧焦|焦味|焦糊味|胶味|塑料味",
        r"每天|经常|天天|工厂|厂里|排放|污染|玩具|网店|商家|买的|产品|有毒",
    ),
    # gas
    (
        "gas",
        0.9,
        rf"{_GAS}(?:罐|管|瓶|阀|炉|灶|表)?[^，。！？,.!?]{{0,5}}?(?:味|臭|漏|泄|嘶嘶)|"
        rf"(?:漏|泄漏|泄露|泄)[了咗]?{_GAS}|一股{_GAS}|闻到[^，。]{{0,3}}{_GAS}",
        r"抄表|开户|报装|充值|改管|安装|预约|涨价|账单",
    ),
    (
        "gas",
        0.85,
        r"臭鸡蛋(?:的)?(?:味|气味)|(?<![没冇不])漏气",
        r"轮胎|车胎|气球|空调|下水道|厕所|化粪池",
    ),
    # explosion
    (
        "explosion",
        0.9,
        r"爆炸|暴炸|炸咗|炸开|炸响|发生爆炸|"
        r"(?:罐|瓶|锅炉|电池|充电宝|电动车|电瓶|手机|高压锅)[^，。]{0,3}(?:爆了|炸了|爆咗)",
        "",
    ),
    ("explosion", 0.65, r"炸了|轰的一声|嘭的一声|砰的一声|巨响|嘭一声", ""),
    # people trapped (电梯困人 is for 119)
    (
        "trapped",
        0.9,
        rf"(?:困|关|卡|锁|焗)(?:住|咗|在|喺|着)?了?{_LIFT}|"
        rf"{_LIFT}[^，。！？]{{0,8}}?(?:困人|关人|困住|困咗|关住|关咗|被困|出不来|出唔嚟|有人)",
        "",
    ),
    ("trapped", 0.7, rf"{_LIFT}[^，。！？]{{0,6}}?(?:卡住|停住|打不开|掉下去|急坠|下坠)", ""),
    (
        "trapped",
        0.85,
        r"被困|困住了|困在里面|关在里面|困咗|逃不出|跑不出来|冲不出|"
        r"困在(?:家|屋|楼上|山上|水里|车里|里头)",
        "",
    ),
    ("trapped", 0.6, r"出不来了?|出唔嚟|出不去了", r"结果|成绩|发票|证|钱|数据|报告|系统"),
    # someone locked in a car
    (
        "locked_in_car",
        0.95,
        rf"{_KID}[^，。]{{0,4}}?(?:锁|关|困|焗|反锁)(?:在|喺|咗|住)?[^，。]{{0,2}}?车(?:里|内|入面|上)",
        "",
    ),
    (
        "locked_in_car",
        0.8,
        r"(?:锁|关|困|焗|反锁)(?:在|喺|咗)?车(?:里|内|入面)",
        r"钥匙|手机|钱包|东西|证件|行李",
    ),
    # drowning
    (
        "drowning",
        0.9,
        rf"溺水|遇溺|淹死|浸死|跌落水|落水|掉(?:进|落|下|到)?了?{_WATER}(?:里|中)|"
        rf"{_WATER}里[^，。]{{0,3}}(?:挣扎|喊救命|浮浮沉沉|沉下去)|被水冲走|冲走了|卷走了",
        r"手机|钥匙|东西|钱包|鞋|帽|衣服|垃圾|车牌|工资|钱|款|跑路",
    ),
    # suicide
    (
        "suicide",
        0.9,
        r"跳楼|(?<![一两几每那这])条楼(?![梯道])|要跳|想跳|跳下去|跳落去|跳河|跳江|跳海|跳桥|轻生|自杀|自尽|寻死|"
        r"寻短见|割腕|上吊|烧炭|吞药|吃了[^，。]{0,3}安眠药|喝了?农药|饮农药|不想活|唔想活|活不下去|"
        r"活着没意思|活得太累|活着(?:好|太)累|撑不下去|药全(?:部)?吃了",
        "",
    ),
    (
        "suicide",
        0.85,
        rf"{_PERSON}[^，。]{{0,6}}?(?:喺|在|站在|坐在|爬上|爬到|趴在|企喺)了?"
        r"(?:天台|楼顶|顶楼|窗台|窗边|阳台外|桥上|桥边|栏杆外)",
        r"晒|晾|种|打扫|漏水|搭|违建|加建|铁皮|装修",
    ),
    ("suicide", 0.6, r"想死|要死给", ""),
    # a person who cannot look after themselves is missing now (dementia, a child)
    (
        "missing",
        0.9,
        r"(?:老年痴呆|痴呆|阿尔茨海默|认知障碍|糊涂|小孩|孩子|小朋友|细路|女儿|儿子|囡囡|"
        r"妈|爸|奶奶|爷爷|外婆|外公|阿婆|阿伯|老人|老母|老豆)[^。]{0,14}?"
        r"(?:走丢|走失|失踪|不见了|不见咗|唔见咗|冇见咗|找不到了|搵唔到|找不着|"
        r"(?:还|都|仲|到现在|出去|出门)(?:没|冇|未)(?:有)?(?:回来|回家|返屋企|返来))|"
        r"(?:走丢|走失|失踪|不见了|找不到了|搵唔到)[^。]{0,14}?"
        r"(?:老年痴呆|痴呆|阿尔茨海默|才\d+岁|才[一二三四五六七八九十两]+岁|小孩|孩子)",
        r"(?:已经|终于|后来|早就)(?:找到|回来|回家)|(?<![没冇未])(?:找到|搵到)(?:了|咗|他|她|佢)|"
        r"找回来了|帮我找了|帮忙找了|狗|猫|宠物|钱包|手机|身份证|钥匙|行李|快递|包裹|去年|上个?月|上个?周|"
        r"上个?星期|上个?礼拜|以前|之前|曾经|小时候|走丢过|走失过|防走失",
    ),
    # violence and weapons
    (
        "weapon",
        0.9,
        rf"(?:拿|持|揸|拎|提|举|挥|掏出|拿着|拿住|带着|手持)(?:住|着)?(?:把|一把|支)?{_WEAPON}|"
        r"开枪|枪声|枪响|有枪|炸弹",
        r"水枪|玩具|枪战|充电枪|焊枪|切菜|做饭|厨房|菜刀[^，。]*(?:卖|买)",
    ),
    (
        "violence",
        0.9,
        r"砍人|斩人|捅人|杀人|劈人|劈友|斩友|坎人|砍死|捅死|打死人|杀死|行凶|抢劫|打劫|"
        r"绑架|强奸|性侵|劫持|挟持|人质|砍伤|捅伤|刺伤|要杀",
        r"游戏|电影|电视剧|小说",
    ),
    (
        "violence",
        0.75,
        r"打人|打架|打起来|打紧交|打交|郁手|群殴|斗殴|打群架|家暴|被打|畀人打|"
        r"俾人打|殴打|追着打|追住打|打得好厉害|打到流血|拳打脚踢|撬门|入屋|爆窃|闯进|闯入|砸门|"
        r"砸车|砸东西|非礼|耍流氓|跟踪我|恐吓|威胁",
        "",
    ),
    ("violence", 0.7, r"(?:小偷|贼|贼佬)[^，。]{0,4}?(?:在|喺|正在)?(?:偷|撬|爬)|有贼", ""),
    # calling for help
    (
        "distress",
        0.8,
        r"救命|就命|救救我|救人啊|快救|help\s?me|sos|快报警|帮我报警|我要报警|"
        r"(?:打|报|叫|拨|call)了?(?:个)?(?:110|幺幺零|一一零|妖妖零)|叫警察",
        "",
    ),
    (
        "medical",
        0.85,
        r"(?:快叫|叫|打|拨|call|需要|派)了?(?:个|辆|架)?(?:救护车|白车|120|幺二零|一二零)|"
        r"需要急救|要急救",
        "",
    ),
    ("fire", 0.8, r"(?:打|报|叫|拨|call)了?(?:个)?(?:119|幺幺九|一一九)|叫消防|消防车快", ""),
    # traffic
    ("traffic", 0.75, r"车祸|撞车|出车祸|翻车|连环撞", ""),
    (
        "medical",
        0.85,
        r"被车撞|俾车撞|畀车撞|撞倒了?人|撞伤|碾过|碾压|压到人|撞到人",
        r"表箱|箱|歪|凹|栏杆|护栏|围墙|电线杆|路灯|车位|门口的树",
    ),
    # medical
    (
        "medical",
        0.9,
        r"晕倒|晕了过去|晕过去|晕咗|晕低|晕左|云倒了|昏倒|昏迷|婚迷|昏过去|不省人事|"
        r"失去意识|没有意识|冇意识|叫不醒|叫唔醒|拍不醒|喊不醒|"
        rf"{_NOT}呼吸|{_NOT}呼息|{_NOT}喘气|唔喘气|冇气|没气了|断气|{_NOT}心跳|心跳停|心脏骤停|"
        r"心脏病发|心脏病犯|心梗|心肌梗|中风|脑溢血|脑出血|抽搐|口吐白沫|翻白眼|大出血|血流不止|"
        r"流好多血|流很多血|好多血|满地血|一身血|喷血|吐血|流血不止|头破血流|食物中毒|一氧化碳|"
        r"煤气中毒|吃错药|误服|喝了农药|呼吸困难|喘不上气|喘唔到气|透不过气|唞唔到气|胸口痛|"
        r"胸口好痛|胸痛|羊癫疯|癫痫|休克|快不行了|唔得了|快死了|要死了|倒在地上|瘫在地上|倒地|"
        r"跌落楼|从楼上掉下|坠楼|要生了|羊水破|难产|噎住|哽住|卡住喉咙|窒息|"
        r"血流[个]?不停|血止不住|止不住血|血一直(?:流|喷)|压都压不住|"
        r"吞(?:了|咗|下去|落肚)[^，。]{0,6}(?:电池|磁|硬币|纽扣|钉|针|花生|药)|"
        r"(?:电池|磁石|硬币|纽扣|钉子)[^，。]{0,3}吞(?:了|咗|下去|落肚)|"
        r"(?:喝|饮|吃)了?[^，。]{0,4}(?:消毒水|洗洁精|漂白水|老鼠药|杀虫剂)|"
        r"(?:摔|跌|滚)[^。！？]{0,8}?(?:起不来|爬不起来|起唔到身|唔郁得)",
        r"燃气|煤气|灶|气罐|卡里|轮胎|气球|电脑|病毒",
    ),
    (
        "medical",
        0.9,
        rf"(?:叫|拍|喊|摇|推)[^，。]{{0,4}}{_NOT}反应|"
        rf"(?:{_PERSON}|老公|老婆|爸|妈|爷爷|奶奶)[^，。]{{0,4}}?{_NOT}反应",
        r"反映|投诉|部门|物业|政府",
    ),
    ("medical", 0.85, r"中毒", r"电脑|病毒|手机|中毒太深"),
    (
        "medical",
        0.6,
        r"(?:跌倒|摔倒|摔下来|跌低)(?!过)|烫伤|烧伤|割伤|咬伤|抽筋|过敏|哮喘|受伤了?",
        "",
    ),
    ("medical", 0.45, r"发高烧|高烧不退|抽风|肚子好痛|肚痛", ""),
    # electricity
    (
        "electric_shock",
        0.9,
        r"触电|电到人|被电到|俾电到|畀电电|电死人|被电击|电击|漏电[^，。]{0,4}(?:人|电到)",
        r"电击枪|电击器",
    ),
    (
        "power_line",
        0.7,
        r"电线[^，。]{0,4}(?:掉|断|垂)[^，。]{0,4}(?:地上|路上|水里|下来)|高压线[^，。]{0,4}(?:断|掉)|"
        r"电线[^，。]{0,3}(?:冒火花|打火|着火)",
        "",
    ),
    # collapse
    (
        "collapse",
        0.85,
        r"倒塌|坍塌|塌了|塌咗|塌下来|塌落|垮塌|楼塌|房子倒了|墙倒了|墙塌|砸到人|砸伤|"
        r"压住人|被压住|压在下面|埋住|被埋|塌方|山体滑坡|滑坡|泥石流|地陷|塌陷",
        r"一个坑|路面|水渠|河岸|渠底",
    ),
    (
        "collapse",
        0.7,
        r"天花板掉|天花掉|吊顶掉|掉下来砸|广告牌[^，。]{0,3}(?:掉|倒)|树倒了?[^，。]{0,3}压",
        "",
    ),
    # flood (on its own a complaint; with someone trapped or an urgent word an emergency)
    ("flood", 0.45, r"水浸|被淹|淹了|水淹|洪水|山洪|内涝|水漫|水好深|水没过|浸到|涨水", ""),
)

# Words that only look like a cue: a cue overlapping one of these is not a cue.
FALSE_FRIENDS = re.compile(
    r"火锅|火车|火腿|火柴|打火机|点火|发火|(?<![山楼顶街路])上火|火气|肝火|火烧云|火烧眉毛|火爆|火热|火星|烟火|烟花|"
    r"开大火|大火收汁|用大火|烧烤|烧水|烧饭|烧香|烧纸|发烧|烧菜|烧鹅|烧腊|烧卖|烧开|炮火|战火|火化|"
    r"火葬|冒火气|气得冒火|"
    r"炸鸡|炸薯|油炸|炸酱|炸串|炸鱼|气炸|炸毛|炸锅|炸裂|爆炸性|"
    r"跳楼价|跳楼甩卖|跳楼大甩卖|跳舞|跳绳|跳槽|跳闸|心跳|跳广场舞|跳远|跳高|跳车|想跳槽|"
    r"困扰|困难|困惑|犯困|好困|困了|被困扰|"
    r"打扰|打折|打电话|打卡|打针|打疫苗|打车|打印|打扫|打工|打算|打包|打开|打听|打人工|打官司|"
    r"打我电话|打我手机|打架子鼓|救命钱|救命恩人|救命稻草|报警器|"
    r"压价|压力|压岁|被压价|想死你|想死我|笑死|[热累饿笑吵烦闷困臭]得?(?:快|要)死|杀人游戏|"
    r"杀价|杀熟|受伤害|中毒太深|漏电保护|电击枪|打不?着火|点不?着火|打唔着火|过敏性|哮喘病|鼻炎加哮喘|"
    r"防溺水|防溺|防火|防走失|消防安全|安全教育"
)
_NEGATION = re.compile(
    r"(?:没有|没|不是|并非|并没有|冇|唔系|唔係|不会是|不像是|排除|未见|没发现|别|不用|不必|"
    r"差点|差一点|险些)[^，,。！？]{0,4}$"
)
_DOUBT = re.compile(r"(?:是不是|有没有|会不会|是唔系|有冇|是否|好像|好似|怀疑)[^，,。]{0,4}$")
_NOT_NEGATION = re.compile(r"(?:没想到|没多久|没一会|没几分钟|没过多久|冇几耐)[^，,。]{0,4}$")
_PAST = re.compile(
    r"上个?月|去年|前年|上周|上星期|上个星期|上礼拜|上次|那次|以前|之前|曾经|当时|那时候|前几天|"
    r"前段时间|[几两三四五六七八九十\d]+(?:天|日|个月|年|周|个星期)(?:前|之前|以前)|早几天|上年|"
    r"那年|那天|发生的|的事|已经灭|扑灭了|灭了火|火灭了|救出来了|已经没事|已经处理|处理好了|"
    r"已经送|送去医院了|已经走了|已经抓|早就跑|上个?礼拜|上个?周末|昨天|昨晚|昨日|前天|前晚|尋日|琴日|噚日|"
    r"前[几两三四五六七八九十\d]+(?:天|个月|年|周|个星期|个礼拜)|后来|过了一天|才告诉|才通知|"
    r"打过电话|打过你们|过一次|过两次|过几次|没下文|没有下文|没被处理|还没处理|住院了|出院|"
    r"开除|处分|不服|有一次|有次|那一次|诊断|医生说|医生问|去医院看|表扬|感谢|多谢|谢谢|锦旗"
)
# Words that say "now" near a cue (its clause or the next).  现在 and 一直 count only
# in the cue's own clause: 上个月摔倒了，现在在家休养 is the aftermath, not the fall.
_PRESENT = re.compile(
    r"正在|还在|又|马上|快点|快来|快过来|赶紧|赶快|救命|刚刚|刚才|紧急|而家|依家|宜家|"
    r"好急|很急|急死|快救|救人|来人|仲在|仲喺|还有人|着呢"
)
_PRESENT_HERE = re.compile(
    r"现在(?!想|要问|问|咨询|投诉|了解|办|申请|还没被|都不|不知道)|一直|到现在"
)
_FEES = re.compile(
    r"费|收费|缴费|交费|多少钱|价格|太贵|很贵|好贵|赔偿|理赔|保险|报销|发票|补贴|补偿|罚款|政策|"
    r"怎么交|怎么缴|押金|账单|退钱|退款|不用钱|要钱|收钱|责任|赔|工伤|申请|鉴定|手续|残疾证|低保|算不算"
)
# Hypothetical, habitual or only talked about: not happening now.
_HYPOTHETICAL = re.compile(
    r"经常|总是|老是|每次|每天|天天|每晚|一到晚上|建议|报警器(?![响叫一直])|在?哪里买|哪里有卖|购买|如果|万一|假如|要是|假设|预防|防止|防范|演练|演习|培训|宣传|知识|隐患|安全检查|会不会(?!出事|有事|有危险)|"
    r"容易|可能会|担心|怕会|以防|避免|小心|提醒|新闻|电视|网上看|网上说|网上查|网上的|视频|电影|小说|游戏|梦见|做梦"
)
# Asking about a situation or praising how it was handled, not in one: checked
# before any "now" word (a caller in danger may well say 谢谢, but not 表扬).
_ASKING = re.compile(
    r"什么情况|哪些情况|什么时候(?:要|该|需要|可以)|需要备|备什么|有没有那种|怕哪天|哪天会|迟早|"
    r"的课|讲座|课程|我要表扬|想表扬|表扬一下|送锦旗|感谢信"
)
_URGENT = re.compile(r"救命|快点|快来|赶紧|赶快|马上|紧急|好急|很急|现在|正在|快救|来人|help|sos")
_SENTENCE_END = re.compile(r"[。！？!?；;\n]")
_CLAUSE_END = re.compile(r"[，,。！？!?；;\n]")
_SKIPPED = re.compile(r"[\s嗯呃额]")  # dropped before matching: 着 火 了, 煤嗯气味

# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class Emergency:
    """An emergency (紧急警情): what kind, which service and number the call goes to,
    the words that said so and where, and how sure the rules are (0–1)."""

    kind: str
    service: str
    number: str
    cue: str
    span: tuple[int, int]
    confidence: float


# --------------------------------------------------------------------------- detection

_COMPILED = tuple(
    (kind, weight, re.compile(pattern), re.compile(unless) if unless else None)
    for kind, weight, pattern, unless in CUES
)


def detect_emergency(text: str, numbers: Mapping[str, str] | None = None) -> Emergency | None:
    """The most certain emergency in ``text``, or None.  ``numbers`` maps a service
    (fire, police, medical) to the number to dial, as in the taxonomy's
    ``[emergency_numbers]``; services it leaves out keep 119/110/120."""
    if not isinstance(text, str) or not text:
        return None
    dial = {**DEFAULT_NUMBERS, **{k: str(v) for k, v in (numbers or {}).items()}}
    compact, index = _compact(text)
    found = [hit for hit in _hits(compact) if not _guarded(compact, *hit)]
    if not found:
        return None
    kinds = {kind for kind, *_ in found}
    best: Emergency | None = None
    best_weight = 0.0
    for kind, weight, start, end in found:
        confidence = _confidence(compact, weight, start, end, len(found), len(kinds))
        if confidence < THRESHOLD:
            continue
        if best is None or (confidence, weight) > (best.confidence, best_weight):
            best_weight = weight
            span = (index[start], index[end - 1] + 1)
            service = SERVICE_OF_KIND[kind]
            best = Emergency(
                kind, service, dial[service], text[span[0] : span[1]], span, confidence
            )
    return best


def cues_set_aside(text: str) -> bool:
    """Whether ``text`` holds emergency cues and every one was set aside (negated,
    past, hypothetical, about fees): the rules read the situation as not now, and
    a learned model's hunch should not overrule them."""
    if not isinstance(text, str) or not text:
        return False
    compact, _ = _compact(text)
    hits = _hits(compact)
    return bool(hits) and all(_guarded(compact, *hit) for hit in hits)


def _compact(text: str) -> tuple[str, list[int]]:
    """``text`` without spaces and hesitations, lower-cased, with each character's
    index in ``text``."""
    kept = [(i, c) for i, c in enumerate(text) if not _SKIPPED.match(c)]
    return "".join(c for _, c in kept).lower(), [i for i, _ in kept]


def _hits(text: str) -> list[tuple[str, float, int, int]]:
    hits = []
    friends = [m.span() for m in FALSE_FRIENDS.finditer(text)]
    for kind, weight, pattern, unless in _COMPILED:
        for m in pattern.finditer(text):
            if any(a < m.end() and m.start() < b for a, b in friends):
                continue
            if unless is not None and unless.search(_sentence(text, m.start(), m.end())):
                continue
            hits.append((kind, weight, m.start(), m.end()))
    return hits


def _sentence(text: str, start: int, end: int, reach: int = 30) -> str:
    """The sentence around a cue, at most ``reach`` characters either side."""
    left = max(0, start - reach)
    ends = list(_SENTENCE_END.finditer(text, left, start))
    if ends:
        left = ends[-1].end()
    right = _SENTENCE_END.search(text, end, min(len(text), end + reach))
    return text[left : right.start() if right else min(len(text), end + reach)]


def _clause_before(text: str, start: int, reach: int = 8) -> str:
    left = max(0, start - reach)
    ends = list(_CLAUSE_END.finditer(text, left, start))
    return text[ends[-1].end() if ends else left : start]


def _guarded(text: str, kind: str, weight: float, start: int, end: int) -> bool:
    """Whether a cue is negated, past, hypothetical or about fees (and nothing says now)."""
    before = _clause_before(text, start)
    negated = (
        _NEGATION.search(before) and not _DOUBT.search(before) and not _NOT_NEGATION.search(before)
    )
    if negated:
        return True
    sentence = _sentence(text, start, end)
    if _FEES.search(sentence) or _ASKING.search(sentence):
        return True
    # "Now" counts only near the cue: in its clause or the next one.  Transcripts
    # join a whole call with commas, and 现在住在亲戚家 says nothing about a fire.
    if _PRESENT.search(_near(text, start, end)) or _PRESENT_HERE.search(_clause(text, start, end)):
        return False
    return bool(_PAST.search(sentence) or _HYPOTHETICAL.search(sentence))


def _clause(text: str, start: int, end: int) -> str:
    """The clause the cue is in."""
    before = list(_CLAUSE_END.finditer(text, 0, start))
    after = _CLAUSE_END.search(text, end)
    return text[before[-1].end() if before else 0 : after.start() if after else len(text)]


def _near(text: str, start: int, end: int) -> str:
    """The cue's clause and the clause after it."""
    before = list(_CLAUSE_END.finditer(text, 0, start))
    left = before[-1].end() if before else 0
    after = list(_CLAUSE_END.finditer(text, end))
    right = after[1].start() if len(after) > 1 else len(text)
    return text[left:right]


def _confidence(text: str, weight: float, start: int, end: int, hits: int, kinds: int) -> float:
    confidence = weight
    if _URGENT.search(_sentence(text, start, end)):
        confidence += 0.1
    confidence += 0.05 * min(hits - 1, 3) + 0.05 * min(kinds - 1, 2)
    return round(min(confidence, 0.99), 2)

"""Chinese first, English by one click: the portal's words.

Templates are written in Chinese and wrap each phrase in ``_("…")``; in English the phrase is
looked up in ``EN`` below (a test checks every phrase in every template has an entry). The
language comes from the ``lang`` cookie, set by ``/lang?to=en``.
"""

from __future__ import annotations

from collections.abc import Callable

LANGS = ("zh", "en")
COOKIE = "xinyong_lang"

EN: dict[str, str] = {
    # layout
    "信用 xinyong": "xinyong credit",
    "公共信用信息平台": "Public credit information platform",
    "首页": "Home",
    "查询": "Search",
    "名单": "Lists",
    "目录": "Catalog",
    "地区统计": "Regions",
    "登录": "Log in",
    "退出": "Log out",
    "我的信用": "My file",
    "执行部门": "Agency",
    "数据报送部门": "Department",
    "平台运营": "Operator",
    "跳到正文": "Skip to content",
    "主导航": "Main navigation",
    "演示数据：全部主体与记录均为合成数据，并非真实的人或企业。": (
        "Demo data: every subject and record is synthetic, not a real person or company."
    ),
    "本平台只公开经法定程序认定的信息，每条信息注明法律依据；"
    "个人身份证号码部分隐去，从不公开住址。": (
        "Only facts adjudicated under law are published, each with its legal basis; individuals' "
        "ID numbers are partly masked and addresses are never shown."
    ),
    # search / home
    "信用信息查询": "Credit information search",
    "名称、统一社会信用代码或身份证号码": "Name, unified social credit code or ID number",
    "例如：北京、wangwei、91350100M000100Y43、1101**********1234": (
        "e.g. 北京, wangwei, 91350100M000100Y43, 1101**********1234"
    ),
    "可用简体、繁体或拼音；个人只能按已公示的信息查到。": (
        "Simplified or traditional characters or pinyin; individuals are found only through "
        "published records."
    ),
    "主体": "Subjects",
    "记录": "Records",
    "查询结果": "Search results",
    "没有找到符合条件的主体。": "No subject matches.",
    "请输入名称或代码。": "Enter a name or a code.",
    "名称": "Name",
    "代码": "Code",
    "类型": "Kind",
    "匹配方式": "Matched by",
    "代码完全一致": "exact code",
    "隐去部分的号码": "masked number",
    "名称一致": "same name",
    "拼音": "pinyin",
    "名称相近": "similar name",
    "公示名单": "Published lists",
    "红黑名单": "Red and black lists",
    "失信被执行人名单": "Judgment defaulters",
    "信用信息目录与法律依据": "Catalog and legal bases",
    "按省份统计的名单与措施": "Listings and measures by province",
    # kinds
    "企业": "Enterprise",
    "个人": "Individual",
    "个体工商户": "Sole trader",
    "社会组织等": "Organisation",
    "机关": "Government body",
    # subject page
    "基本信息": "Basic information",
    "统一社会信用代码": "Unified social credit code",
    "身份证号码": "ID number",
    "所在地区": "Region",
    "登记信息": "Registration",
    "行政许可与行政处罚（双公示）": "Licences and penalties (double publicity)",
    "失信信息": "Records of dishonesty",
    "所在名单及惩戒措施": "Lists in force and their measures",
    "守信激励（红名单）": "Honours (red lists)",
    "关联关系": "Relationships",
    "其他记录": "Other records",
    "依据登记记录所载": "As the registration records state them",
    "角色": "Role",
    "姓名": "Name",
    "起始": "Since",
    "文书号": "Document no.",
    "决定日期": "Decided on",
    "有效期至": "Valid until",
    "状态": "Status",
    "来源部门": "Source",
    "法律依据": "Legal basis",
    "在名单上": "On the list",
    "触发的措施": "Measures it triggers",
    "适用行为": "Actions",
    "执行部门（措施）": "Implementing agency",
    "效果": "Effect",
    "无记录。": "No records.",
    "另有 {n} 条记录不向公众公开或已过公示期。": (
        "{n} more records are not public or are past their disclosure period."
    ),
    "详情": "Details",
    "长期": "open-ended",
    "未找到该主体。": "No such subject.",
    # lists
    "名单类型": "Polarity",
    "黑名单": "Black list",
    "红名单": "Red list",
    "认定部门": "Listing authority",
    "公示条目": "Entries",
    "筛选": "Filter",
    "省份": "Province",
    "全部": "All",
    "年份": "Year",
    "主体类型": "Subject kind",
    "个人或组织": "Individuals or organisations",
    "组织": "Organisations",
    "导出 CSV": "Export CSV",
    "共 {n} 条": "{n} entries",
    "第 {page} / {pages} 页": "Page {page} of {pages}",
    "上一页": "Previous",
    "下一页": "Next",
    "认定机关": "Authority",
    "名单依据记录": "Record",
    "本页列出名单的现行条目及其所依据的公开记录。": (
        "This page shows the list's current entries and the public records behind them."
    ),
    "认定标准": "Criteria",
    # catalog
    "记录类型": "Record types",
    "惩戒与激励措施": "Joint measures",
    "公开范围": "Disclosure",
    "类别": "Category",
    "向社会公开": "public",
    "政务共享": "shared among agencies",
    "仅本人": "subject only",
    "惩戒": "punishment",
    "激励": "reward",
    # dashboard
    "地区统计（仅汇总，不定位任何个人）": "Regions (aggregates only; no person is placed)",
    "按省份": "By province",
    "按年份": "By year",
    "列入名单": "Listings",
    "限制消费令": "Restriction orders",
    "异议": "Objections",
    "信用修复": "Repairs",
    "省份方格图：每格一个省级行政区，颜色越深数量越多。": (
        "Tile grid: one tile per province; darker means more."
    ),
    "查看全国": "Whole country",
    "异议与信用修复的统计待相应功能上线后提供。": (
        "Counts of objections and repairs appear once those features are available."
    ),
    "数量": "Count",
    # login
    "用户名": "User name",
    "密码": "Password",
    "演示账户（密码均为 demo）": "Demo accounts (password demo for all)",
    "通过统一身份认证登录": "Log in with the identity service",
    "您的身份未对应任何角色；您可以继续使用公开信息。": (
        "Your identity maps to no role here; the public pages remain open to you."
    ),
    "登录未完成，请重试。": "The log-in did not complete; please try again.",
    "本服务器未配置登录；只提供公开信息。": (
        "No log-in is configured on this server; only public information is served."
    ),
    "用户名或密码不正确。": "Wrong user name or password.",
    "会话已过期，请重新登录。": "Your session has expired; please log in again.",
    "请先以相应身份登录。": "Please log in with the right role first.",
    "表单已失效，请重试。": "The form has expired; please try again.",
    # self-service
    "我的信用档案": "My credit file",
    "我的全部记录": "All my records",
    "谁查看了我的档案": "Who looked at my file",
    "时间": "When",
    "查看者": "Who",
    "身份": "Role",
    "目的": "Purpose",
    "操作": "Action",
    "暂无查看记录。": "Nobody has looked yet.",
    "我的决定及理由": "Decisions about me and their reasons",
    "提出异议": "Object to a record",
    "申请信用修复": "Apply for repair",
    "签署信用承诺": "Sign a commitment",
    "下载信用报告（PDF）": "Download my report (PDF)",
    # consoles
    "执行部门控制台": "Implementing agency console",
    "核查一个主体": "Check one subject",
    "主体代码": "Subject code",
    "行为": "Action",
    "核查": "Check",
    "上传文件批量核查": "Upload a file to screen",
    "上传一列代码（CSV 或 Parquet），下载每行的核查结果：代码、结果、有效期至、措施；"
    "无效代码标为 invalid 并写明原因。": (
        "Upload a column of codes (CSV or Parquet) and download the result of each row: code, "
        "outcome, until, measures; an invalid code is marked invalid with the reason."
    ),
    "代码所在列（可不填）": "Column with the codes (optional)",
    "查询目的（记入审计）": "Purpose (written to the audit log)",
    "控制台核查": "console check",
    "批量核查": "Screen",
    "批量核查的行为": "Action to screen for",
    "决定编号": "Decision ID",
    "目录版本": "Catalog version",
    "核查历史": "History of checks",
    "数据报送部门控制台": "Department console",
    "上传一批记录": "Upload a batch",
    "文件": "File",
    "字段映射文件（可选，YAML）": "Mapping file (optional, YAML)",
    "未关联": "Unlinked",
    "未对应字段的列（随记录保留）": "Unmapped columns (kept with each record)",
    "上传": "Upload",
    "批次": "Batches",
    "批次号": "Batch",
    "文件名": "File name",
    "开始时间": "Started",
    "接收": "Accepted",
    "拒收": "Rejected",
    "重复": "Duplicates",
    "拒收行及原因": "Rejected rows and reasons",
    "行号": "Row",
    "原因": "Reason",
    "原始内容": "Original",
    "修正拒收行后重新上传该文件即可；已接收的行不会重复计入。": (
        "Fix the rejected rows and upload the file again; rows already accepted are not "
        "counted twice."
    ),
    "转给本部门的异议": "Objections routed to us",
    "平台运营控制台": "Operator console",
    "最近批次": "Recent batches",
    "逾期的异议与修复申请": "Overdue objections and repairs",
    "审计链校验": "Audit chain verification",
    "审计链完整。": "The audit chain is intact.",
    "审计链已损坏：": "The audit chain is broken:",
    "事件数": "Events",
    "载入完成": "Loaded",
    "请选择文件。": "Choose a file.",
    "没有批次。": "No batches.",
    "失败": "Failed",
    "载入中": "Loading",
    "完成": "Done",
    # errors
    "出错了": "Something went wrong",
    "返回首页": "Back to the home page",
    "页面不存在。": "No such page.",
    "请求无效。": "The request is not valid.",
    "无权访问。": "You may not see this.",
    "请求过多，请稍后再试。": "Too many requests; please try again later.",
    "服务器内部错误，已记录。": "Internal error; it has been logged.",
    "已提交。": "Submitted.",
    "异议理由": "Why the record is wrong",
    "修复说明": "Statement",
    "修复条件": "Conditions",
    "本人承诺已满足以上条件": "I attest that I meet these conditions",
    "我的异议": "My objections",
    "我的修复申请": "My repair applications",
    "承诺事项": "Matter",
    "签署日期": "Signed on",
    "受理部门": "Authority",
    "提交日期": "Filed on",
    "办理期限": "Due on",
    "English": "English",
    "中文": "中文",
    "切换语言": "Switch language",
}


def translator(lang: str) -> Callable[..., str]:
    """``_("中文", n=3)`` in the given language, with ``str.format`` arguments."""

    def _(text: str, **kwargs: object) -> str:
        out = EN.get(text, text) if lang == "en" else text
        return out.format(**kwargs) if kwargs else out

    return _


def pick(lang: str, zh: str, en: str) -> str:
    """One of two strings from data (catalog names): ``name_zh`` / ``name_en``."""
    return en if lang == "en" and en else zh

"""Write the sample files in this folder (seeded: the same files every run).

One file per shipped record type, each in a format departments really send, with valid codes
drawn from ``xinyong.codes``; plus one file of bad rows. Run: ``python examples/make_examples.py``.

The files tell one story, so a demo has something to show. The same enterprises and people appear
in several files (``CAST``):

- 成都蓉达物流有限公司 is under a consumption restriction order; its legal representative 陈刚 is
  in the officer file with his ID number (so ``subject show`` of 陈刚 lists the relation), and it
  was listed as abnormal (unreachable at its address);
- 广州市恒信建材有限公司 is a judgment defaulter, a major tax violator and a D-grade taxpayer;
  its legal representative and actual controller 李强 is in the officer file; a county bureau
  (澧县交通运输局, a made-up case) owes it money under a judgment it has not performed
  (government dishonesty);
- 南京瑞康大药房连锁有限公司 and 苏州恒达精密机械有限公司 are A-grade taxpayers (red list);
- 东莞市鑫源五金制品有限公司 did not file annual reports: abnormal operation, then, three years
  on, the serious illegal and dishonest enterprise list; its legal representative changed;
- 王伟: two people of that name are judgment defaulters (each with an ID number), and records that
  give only the name (a defaulter row, a railway fare-evasion row, an officer row) link to nobody.
"""

from __future__ import annotations

import csv
import json
import random
from datetime import date
from pathlib import Path

from openpyxl import Workbook

from xinyong.codes import ric, uscc

HERE = Path(__file__).resolve().parent
rng = random.Random(2014)


def company(region: str | None = None) -> str:
    return uscc.generate(rng, region=region, authority="9", category="1")


def person(born: date | None = None, region: str | None = None) -> str:
    born = born or date(rng.randint(1960, 1995), rng.randint(1, 12), 1)
    return ric.generate(rng, region=region, birth_date=born)


#: Who appears in more than one file: name → code, drawn once (seeded).
CAST: dict[str, str] = {}


#: Where each enterprise is registered (GB/T 2260), so its code matches its address.
REGION = {
    "成都蓉达物流有限公司": "510107",
    "广州市恒信建材有限公司": "440106",
    "深圳市新锐电子科技有限公司": "440300",
    "杭州味源餐饮管理有限公司": "330106",
    "南京瑞康大药房连锁有限公司": "320100",
    "苏州恒达精密机械有限公司": "320500",
    "东莞市鑫源五金制品有限公司": "441900",
}


def cast(name: str, make: str = "company", born: date | None = None, region: str = "") -> str:
    if name not in CAST:
        if make == "company":
            CAST[name] = company(REGION.get(name))
        else:
            CAST[name] = person(born, region or None)
    return CAST[name]


RONGDA, HENGXIN = "成都蓉达物流有限公司", "广州市恒信建材有限公司"
XINRUI, WEIYUAN = "深圳市新锐电子科技有限公司", "杭州味源餐饮管理有限公司"
RUIKANG, HENGDA = "南京瑞康大药房连锁有限公司", "苏州恒达精密机械有限公司"
XINYUAN = "东莞市鑫源五金制品有限公司"


ZXGK = [  # 中国执行信息公开网's columns for 失信被执行人
    "被执行人姓名/名称", "身份证号码/组织机构代码", "性别", "年龄", "法定代表人或者负责人姓名",
    "执行法院", "省份", "执行依据文号", "案号", "做出执行依据单位", "生效法律文书确定的义务",
    "被执行人的履行情况", "失信被执行人行为具体情形", "发布时间", "立案时间", "已履行部分",
    "未履行部分",
]


def defaulters() -> None:
    wang_1 = cast("王伟（北京）", "person", date(1982, 5, 17), "110105")
    wang_2 = cast("王伟（上海）", "person", date(1990, 11, 3), "310115")
    firm = cast(HENGXIN)
    rows = [
        ["王伟", wang_1, "男", "43", "", "北京市朝阳区人民法院", "北京",
         "（2023）京0105民初12345号", "（2024）京0105执1234号", "北京市朝阳区人民法院",
         "偿还借款本金人民币十二万元及利息", "全部未履行",
         "有履行能力而拒不履行生效法律文书确定义务的", "2024年3月5日", "2024/1/8", "", ""],
        ["王伟", wang_2, "男", "35", "", "上海市浦东新区人民法院", "上海",
         "（2023）沪0115民初6789号", "（2024）沪0115执567号", "上海市浦东新区人民法院",
         "支付货款人民币八万元", "部分履行", "违反财产报告制度的", "2024-04-02", "20240110", "", ""],
        ["广州市恒信建材有限公司", firm, "", "", "李强", "广州市天河区人民法院", "广东",
         "（2022）粤0106民初2233号", "（2023）粤0106执998号", "广州市天河区人民法院",
         "支付工程款人民币三百二十万元", "全部未履行",
         "以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行的", "2023/9/12", "2023-02-01", "", ""],
        ["王伟", "", "男", "", "", "河北省石家庄市长安区人民法院", "河北",
         "（2023）冀0102民初777号", "（2024）冀0102执321号", "河北省石家庄市长安区人民法院",
         "支付租金人民币二万元", "全部未履行", "违反限制消费令的", "2024年5月20日", "2024年2月1日", "", ""],
    ]
    with (HERE / "judgment_defaulter.gbk.csv").open("w", encoding="gbk", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(ZXGK)
        writer.writerows(rows)


def defaulters_bad() -> None:
    good = person()
    bad_checksum = good[:-1] + ("1" if good[-1] != "1" else "2")
    rows = [
        ["赵敏", person(), "女", "38", "", "杭州市西湖区人民法院", "浙江", "（2023）浙0106民初1号",
         "（2024）浙0106执10号", "杭州市西湖区人民法院", "偿还借款", "全部未履行",
         "违反财产报告制度的", "2024-03-01", "2024-01-02", "", ""],
        ["钱进", bad_checksum, "男", "50", "", "杭州市西湖区人民法院", "浙江", "（2023）浙0106民初2号",
         "（2024）浙0106执11号", "杭州市西湖区人民法院", "偿还借款", "全部未履行",
         "违反财产报告制度的", "2024-03-01", "2024-01-02", "", ""],
        ["孙丽", person(), "女", "29", "", "杭州市西湖区人民法院", "浙江", "（2023）浙0106民初3号",
         "（2024）浙0106执12号", "杭州市西湖区人民法院", "偿还借款", "全部未履行",
         "违反财产报告制度的", "2024-02-30", "2024-01-02", "", ""],
        ["", person(), "男", "41", "", "杭州市西湖区人民法院", "浙江", "（2023）浙0106民初4号",
         "（2024）浙0106执13号", "杭州市西湖区人民法院", "偿还借款", "全部未履行",
         "违反财产报告制度的", "2024-03-01", "2024-01-02", "", ""],
        ["周杰", person(), "男", "33", "", "杭州市西湖区人民法院", "浙江", "（2023）浙0106民初5号",
         "（2024）浙0106执14号", "杭州市西湖区人民法院", "偿还借款", "全部未履行",
         "欠钱不还的", "2024-03-01", "2024-01-02", "", ""],
    ]
    with (HERE / "judgment_defaulter_bad_rows.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(ZXGK)
        writer.writerows(rows)


def restrictions() -> None:
    header = ["subject_name", "subject_code", "court", "document_no", "decided_on",
              "legal_representative_name", "published_on"]
    rows = [
        ["刘洋", person(), "成都市武侯区人民法院", "（2024）川0107执455号", "2024-02-20", "",
         "2024-02-22"],
        [RONGDA, cast(RONGDA), "成都市武侯区人民法院", "（2024）川0107执456号",
         "2024-02-21", "陈刚", "2024-02-23"],
    ]
    with (HERE / "consumption_restriction_order.csv").open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def penalties() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["行政相对人名称", "统一社会信用代码", "行政处罚决定书文号", "违法行为类型",
                  "违法事实", "处罚依据", "处罚类别", "处罚内容", "罚款金额（万元）", "处罚决定日期",
                  "处罚机关", "法定代表人", "失信程度"])
    sheet.append([XINRUI, cast(XINRUI), "深市监罚〔2024〕118号", "虚假宣传",
                  "在网店页面宣传产品获得国家专利，经查无此专利", "《中华人民共和国反不正当竞争法》第二十条",
                  "罚款", "罚款人民币二十万元", "20", date(2024, 1, 15), "深圳市市场监督管理局",
                  "黄志明", "一般"])
    sheet.append([WEIYUAN, cast(WEIYUAN), "杭西市监罚〔2024〕52号", "食品安全",
                  "经营超过保质期的食品原料", "《中华人民共和国食品安全法》第一百二十四条",
                  "罚款;没收违法所得", "罚款人民币五万元", "5", "2024年2月6日",
                  "杭州市西湖区市场监督管理局", "吴海燕", "general"])
    book.save(HERE / "admin_penalty.xlsx")


def licenses() -> None:
    header = ["行政相对人名称", "统一社会信用代码", "行政许可决定文书号", "行政许可决定文书名称",
              "许可编号", "许可类别", "许可内容", "许可决定日期", "有效期至", "许可机关"]
    rows = [
        [RUIKANG, cast(RUIKANG), "苏宁药许〔2024〕16号", "药品经营许可证",
         "苏AA0250016", "general", "药品零售（处方药、非处方药）", "2024-03-11", "2029-03-10",
         "南京市市场监督管理局"],
    ]
    with (HERE / "admin_license.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def professional() -> None:
    rows = [
        {"姓名": "张静", "身份证号码": person(), "处罚决定书文号": "京司罚〔2024〕7号",
         "处罚决定日期": "2024-04-18", "执业类别": "lawyer", "执业证号": "11101201010123456",
         "处罚内容": "停止执业三个月", "处罚机关": "北京市司法局"},
    ]
    with (HERE / "professional_penalty.jsonl").open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_csv(name: str, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> None:
    with (HERE / name).open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def write_jsonl(name: str, rows: list[dict[str, str]]) -> None:
    with (HERE / name).open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def registrations() -> None:
    header = ["企业名称", "统一社会信用代码", "成立日期", "法定代表人", "企业类型",
              "注册资本（万元）", "登记机关", "所属地区", "住所", "登记状态", "核准日期"]
    rows = [
        [RONGDA, cast(RONGDA), "2015-06-18", "陈刚", "有限责任公司（自然人投资或控股）", "500",
         "成都市武侯区市场监督管理局", "510107", "成都市武侯区武科西二路188号", "存续",
         "2019-04-01"],
        [HENGXIN, cast(HENGXIN), "2012-03-09", "李强", "有限责任公司（自然人独资）", "2000",
         "广州市天河区市场监督管理局", "440106", "广州市天河区黄埔大道西76号1203房", "存续",
         "2016-08-15"],
        [RUIKANG, cast(RUIKANG), "2008-11-20", "王芳", "有限责任公司", "3000",
         "南京市市场监督管理局", "320100", "南京市鼓楼区中山北路105号", "存续", "2021-01-05"],
        [HENGDA, cast(HENGDA), "2010-05-12", "徐建国", "有限责任公司（外商投资企业与内资合资）",
         "8000", "苏州工业园区市场监督管理局", "320500", "苏州工业园区星湖街328号", "存续",
         "2022-09-30"],
        [XINYUAN, cast(XINYUAN), "2017-02-27", "马丽", "有限责任公司（自然人投资或控股）", "100",
         "东莞市市场监督管理局", "441900", "东莞市长安镇振安中路28号", "吊销未注销",
         "2021-07-01"],
    ]
    write_csv("enterprise_registration.csv", header, rows, "utf-8-sig")


def officers() -> None:
    """One row per person and post, as an XLSX sheet with the ID numbers stored as text."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["企业名称", "统一社会信用代码", "人员姓名", "人员身份证号码", "职务", "任职日期",
                  "离任日期"])
    chen = cast("陈刚", "person", date(1978, 9, 2), "510107")
    li = cast("李强", "person", date(1971, 1, 23), "440106")
    rows = [
        [RONGDA, cast(RONGDA), "陈刚", chen, "法定代表人", "2019-04-01", ""],
        [RONGDA, cast(RONGDA), "赵磊", person(), "董事", "2019-04-01", ""],
        [HENGXIN, cast(HENGXIN), "李强", li, "法定代表人", "2016-08-15", ""],
        [HENGXIN, cast(HENGXIN), "李强", li, "实际控制人", "2016-08-15", ""],
        [HENGXIN, cast(HENGXIN), "周敏", person(), "经理", "2018-03-01", ""],
        [HENGXIN, cast(HENGXIN), "王伟", "", "负责人", "2020-05-10", ""],  # name only: no relation
        [RUIKANG, cast(RUIKANG), "王芳", person(), "法定代表人", "2021-01-05", ""],
        [HENGDA, cast(HENGDA), "徐建国", person(), "法定代表人", "2022-09-30", ""],
        [XINYUAN, cast(XINYUAN), "马超", person(), "法定代表人", "2017-02-27", "2021-06-30"],
        [XINYUAN, cast(XINYUAN), "马丽", person(), "法定代表人", "2021-07-01", ""],
    ]
    for row in rows:
        sheet.append(row)
    book.save(HERE / "enterprise_officer.xlsx")


def abnormal() -> None:
    rows = [
        {"企业名称": XINYUAN, "统一社会信用代码": cast(XINYUAN),
         "列入决定书文号": "东市监异〔2020〕0731号", "列入日期": "2020-07-15",
         "列入经营异常名录原因": "未依照规定期限公示年度报告",
         "作出决定机关": "东莞市市场监督管理局", "公示日期": "2020-07-16"},
        {"企业名称": RONGDA, "统一社会信用代码": cast(RONGDA),
         "列入决定书文号": "成武市监异〔2024〕112号", "列入日期": "2024-05-08",
         "列入经营异常名录原因": "通过登记的住所或者经营场所无法联系",
         "作出决定机关": "成都市武侯区市场监督管理局", "公示日期": "2024-05-09"},
    ]
    write_jsonl("abnormal_operation.jsonl", rows)


def serious_dishonest() -> None:
    header = ["企业名称", "统一社会信用代码", "列入决定书文号", "列入日期",
              "列入严重违法失信名单原因", "作出决定机关", "法定代表人", "公示日期"]
    rows = [
        [XINYUAN, cast(XINYUAN), "东市监严〔2023〕0716号", "2023-07-20",
         "被列入经营异常名录届满3年仍未履行相关义务", "东莞市市场监督管理局", "马丽", "2023-07-21"],
    ]
    write_csv("serious_illegal_dishonest_enterprise.gb18030.csv", header, rows, "gb18030")


def tax_violations() -> None:
    header = ["纳税人名称", "纳税人识别号", "税务行政处罚决定书文号", "决定日期", "案件性质",
              "主要违法事实", "涉案金额（元）", "法定代表人或者负责人姓名",
              "负有直接责任的财务负责人", "是否缴清", "公布日期"]
    rows = [
        [HENGXIN, cast(HENGXIN), "穗天税稽罚〔2023〕45号", "2023-11-20", "虚开增值税专用发票",
         "2021年1月至2022年6月，在没有真实交易的情况下为他人虚开增值税专用发票38份",
         "3,862,400.00", "李强", "周敏", "否", "2023-12-05"],
    ]
    write_csv("major_tax_violation.csv", header, rows)


def tax_ratings() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["纳税人识别号", "纳税人名称", "评价年度", "纳税信用等级", "评价日期"])
    for name, grade in ((RUIKANG, "A"), (HENGDA, "A"), (XINRUI, "B"), (WEIYUAN, "M"),
                        (HENGXIN, "D")):
        sheet.append([cast(name), name, 2023, grade, date(2024, 4, 18)])
    book.save(HERE / "tax_credit_rating.xlsx")


def railway() -> None:
    header = ["姓名", "身份证号码", "失信行为", "处罚决定书文号", "处罚日期", "公布日期"]
    rows = [
        ["张磊", person(date(1986, 4, 9)), "在动车组列车上吸烟或者在其他列车的禁烟区域吸烟", "成铁公（治）罚决字〔2024〕0315号",
         "2024-03-15", "2024-04-01"],
        ["王伟", "", "无票乘车、越站（席）乘车且拒不补票", "", "", "2024-04-01"],  # name only: links to nobody
    ]
    write_csv("railway_safety_violation.csv", header, rows)


def aviation() -> None:
    rows = [
        {"姓名": "孙浩", "身份证号码": person(date(1992, 8, 30)), "失信行为": "强占座位、行李架，打架斗殴、寻衅滋事等扰乱客舱秩序",
         "处罚决定书文号": "京首机公（治）行罚决字〔2024〕221号", "处罚日期": "2024-02-11",
         "公布日期": "2024-03-01"},
    ]
    write_jsonl("aviation_safety_violation.jsonl", rows)


def government() -> None:
    header = ["失信主体名称", "统一社会信用代码", "案号", "认定日期", "失信类型", "相对方",
              "涉及金额（元）", "执行法院", "发布时间"]
    bureau = uscc.generate(rng, region="430723", authority="1", category="1")
    rows = [
        ["澧县交通运输局", bureau, "（2023）粤0106执1877号", "2024-01-22", "judgment_unperformed",
         HENGXIN, "1,250,000", "广州市天河区人民法院", "2024-02-01"],
    ]
    write_csv("government_dishonesty.csv", header, rows)


def commitment_breach() -> None:
    header = ["承诺人名称", "统一社会信用代码", "承诺书编号", "承诺类型", "承诺日期", "承诺事项",
              "违诺情形", "违诺认定日期", "认定部门", "公示日期"]
    rows = [
        [XINRUI, cast(XINRUI), "深市监承〔2023〕0892号", "告知承诺", "2023-06-02",
         "以告知承诺方式办理食品经营许可，承诺具备与经营规模相适应的场所和设备",
         "核查发现经营场所与承诺不符，未设置食品原料专用库房", "2023-09-14",
         "深圳市市场监督管理局", "2023-09-20"],
    ]
    write_csv("commitment_breach.csv", header, rows)


# ---------------------------------------------------------------------------------------------
# One file per national layout (docs/ingest.md, "Layouts"), as departments export them: mixed
# parentheses, dates written 2025年11月3日 and 2026/3/10, amounts in 万元, the same cast.

SGS_PENALTY_V1 = [
    "行政处罚决定书文号",
    "处罚名称",
    "处罚类别1",
    "处罚类别2",
    "处罚事由",
    "处罚依据",
    "行政相对人名称",
    "行政相对人代码_1(统一社会信用代码)",
    "行政相对人代码_2(组织机构代码)",
    "行政相对人代码_3(工商登记码)",
    "行政相对人代码_4(税务登记号)",
    "行政相对人代码_5(居民身份证号)",
    "法定代表人姓名",
    "处罚结果",
    "处罚决定日期",
    "处罚机关",
    "当前状态",
    "地方编码",
    "数据更新时间戳",
    "备注",
]
SGS_PENALTY_V2 = [
    "行政相对人名称",
    "行政相对人类别",
    "行政相对人代码_1（统一社会信用代码）",
    "行政相对人代码_2（工商注册号）",
    "行政相对人代码_3（组织机构代码）",
    "行政相对人代码_4（税务登记号）",
    "行政相对人代码_5（事业单位证书号）",
    "行政相对人代码_6（社会组织登记证号）",
    "法定代表人",
    "法定代表人证件类型",
    "法定代表人证件号码",
    "证件类型",
    "证件号码",
    "行政处罚决定书文号",
    "违法行为类型",
    "违法事实",
    "处罚依据",
    "处罚类别",
    "处罚内容",
    "罚款金额（万元）",
    "没收违法所得、没收非法财物的金额（万元）",
    "暂扣或吊销证照名称及编号",
    "处罚决定日期",
    "处罚有效期",
    "公示截止期",
    "处罚机关",
    "处罚机关统一社会信用代码",
    "数据来源单位",
    "数据来源单位统一社会信用代码",
    "备注",
]
SGS_LICENSE_V1 = [
    "行政许可决定书文号",
    "项目名称",
    "审批类别",
    "许可内容",
    "行政相对人名称",
    "行政相对人代码_1（统一社会信用代码）",
    "行政相对人代码_2（组织机构代码）",
    "行政相对人代码_3（工商登记码）",
    "行政相对人代码_4（税务登记号）",
    "行政相对人代码_5（居民身份证号）",
    "法定代表人姓名",
    "许可决定日期",
    "许可截止期",
    "许可机关",
    "当前状态",
    "地方编码",
    "数据更新时间戳",
    "备注",
]
SGS_LICENSE_V2 = [
    "行政相对人名称",
    "行政相对人类别",
    "行政相对人代码_1(统一社会信用代码)",
    "行政相对人代码_2(工商注册号)",
    "行政相对人代码_3(组织机构代码)",
    "行政相对人代码_4(税务登记号)",
    "行政相对人代码_5(事业单位证书号)",
    "行政相对人代码_6(社会组织登记证号)",
    "法定代表人",
    "法定代表人证件类型",
    "法定代表人证件号码",
    "证件类型",
    "证件号码",
    "行政许可决定文书名称",
    "行政许可决定文书号",
    "许可类别",
    "许可证书名称",
    "许可编号",
    "许可内容",
    "许可决定日期",
    "有效期自",
    "有效期至",
    "许可机关",
    "许可机关统一社会信用代码",
    "当前状态",
    "数据来源单位",
    "数据来源单位统一社会信用代码",
    "备注",
]
SZ_SAMR = "11440300MB2C92041F"  # made up, but a valid code: 深圳市市场监督管理局


def layout_penalties() -> None:
    xinrui = cast(XINRUI)
    rows = [
        [
            "深市监罚〔2025〕301号",
            "虚假宣传案",
            "罚款",
            "警告",
            "网店宣传产品获得专利，经查无此专利",
            "《中华人民共和国反不正当竞争法》第二十条",
            XINRUI,
            xinrui,
            xinrui[8:17],
            "",
            "",
            "",
            "黄志明",
            "罚款人民币五万元",
            "2025年11月3日",
            "深圳市市场监督管理局",
            "0",
            "440300",
            "2025-11-04 09:12:00",
            "",
        ],
        [
            "杭西市监罚〔2026〕9号",
            "销售过期食品案",
            "罚款",
            "",
            "销售超过保质期的食品",
            "《中华人民共和国食品安全法》第一百二十四条",
            "张丽",
            "",
            "",
            "",
            "",
            person(),
            "",
            "罚款人民币二千元",
            "2026/1/5",
            "杭州市西湖区市场监督管理局",
            "0",
            "330106",
            "2026-01-06 08:00:00",
            "",
        ],
    ]
    write_csv("admin_penalty.sgs_v1.gbk.csv", SGS_PENALTY_V1, rows, "gbk")
    wu = person(date(1983, 7, 21), "330106")  # 吴海燕: a relation on the decision date
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(SGS_PENALTY_V2)
    sheet.append(
        [
            RONGDA,
            "法人及非法人组织",
            cast(RONGDA),
            "",
            "",
            "",
            "",
            "",
            "陈刚",
            "",
            "",
            "",
            "",
            "成武市监罚〔2025〕88号",
            "超限运输",
            "货车超限运输且拒不改正",
            "《中华人民共和国道路运输条例》第六十九条",
            "罚款",
            "罚款人民币三万元",
            "3",
            "",
            "",
            "2025年11月3日",
            "2026/11/2",
            "2028/11/3",
            "成都市武侯区市场监督管理局",
            "",
            "成都市武侯区市场监督管理局",
            "",
            "",
        ]
    )
    sheet.append(
        [
            WEIYUAN,
            "法人及非法人组织",
            cast(WEIYUAN),
            "",
            "",
            "",
            "",
            "",
            "吴海燕",
            "身份证",
            wu,
            "",
            "",
            "杭西市监罚〔2026〕31号",
            "食品安全",
            "未按规定进行食品进货查验",
            "《中华人民共和国食品安全法》第一百二十六条",
            "罚款",
            "罚款人民币八千元",
            "0.8",
            "0.12",
            "",
            "2026/3/10",
            "",
            "2027/3/10",
            "杭州市西湖区市场监督管理局",
            "",
            "杭州市西湖区市场监督管理局",
            "",
            "法定代表人证件号码：建立当日的法定代表人关系",
        ]
    )
    book.save(HERE / "admin_penalty.sgs_v2.xlsx")


def layout_licenses() -> None:
    ruikang = cast(RUIKANG)
    rows = [
        [
            "苏宁食许〔2025〕88号",
            "食品经营许可",
            "普通",
            "食品销售（含保健食品）",
            RUIKANG,
            ruikang,
            ruikang[8:17],
            "",
            "",
            "",
            "王芳",
            "2025年11月3日",
            "2030/11/2",
            "南京市市场监督管理局",
            "0",
            "320100",
            "2025-11-03 16:20:00",
            "",
        ],
    ]
    write_csv("admin_license.sgs_v1.gb18030.csv", SGS_LICENSE_V1, rows, "gb18030")
    rows = [
        [
            HENGDA,
            "法人及非法人组织",
            cast(HENGDA),
            "",
            "",
            "",
            "",
            "",
            "徐建国",
            "",
            "",
            "",
            "",
            "特种设备使用登记证",
            "苏园特许〔2026〕12号",
            "登记",
            "特种设备使用登记证",
            "梯11苏E00123(26)",
            "电梯使用登记",
            "2026/3/10",
            "2026/3/10",
            "2031/3/9",
            "苏州工业园区市场监督管理局",
            "",
            "有效",
            "苏州工业园区市场监督管理局",
            "",
            "",
        ],
        [
            "刘洋",
            "自然人",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "身份证",
            person(date(1988, 2, 14)),
            "食品小经营店登记证",
            "苏园食登〔2026〕5号",
            "登记",
            "食品小经营店登记证",
            "JY23205000005",
            "预包装食品销售",
            "2026年1月5日",
            "2026年1月5日",
            "2029年1月4日",
            "苏州工业园区市场监督管理局",
            "",
            "有效",
            "苏州工业园区市场监督管理局",
            "",
            "",
        ],
    ]
    write_csv("admin_license.sgs_v2.csv", SGS_LICENSE_V2, rows, "utf-8-sig")


def layout_courts() -> None:
    header = [
        "被执行人姓名/名称",
        "身份证号码/组织机构代码",
        "法定代表人或者负责人姓名",
        "执行法院",
        "省份",
        "案号",
        "立案时间",
        "发布时间",
    ]
    rows = [
        [
            XINYUAN,
            cast(XINYUAN),
            "马丽",
            "东莞市第一人民法院",
            "广东",
            "（2025）粤1971执5521号",
            "2025年11月3日",
            "2025/11/20",
        ],
        [
            "李华",
            "4401**********2316",
            "",
            "广州市天河区人民法院",
            "广东",
            "（2026）粤0106执77号",
            "2026/1/5",
            "2026/3/10",
        ],  # masked, as the site shows an individual: unlinked
    ]
    write_csv("consumption_restriction_order.zxgk.csv", header, rows, "utf-8-sig")


def layout_tax() -> None:
    header = [
        "纳税人名称",
        "纳税人识别号或社会信用代码",
        "组织机构代码",
        "注册地址",
        "法定代表人或者负责人姓名",
        "法定代表人或者负责人性别",
        "法定代表人或者负责人证件名称",
        "法定代表人或者负责人证件号码",
        "负有直接责任的财务负责人姓名",
        "负有直接责任的财务负责人性别",
        "负有直接责任的财务负责人证件名称",
        "负有直接责任的财务负责人证件号码",
        "负有直接责任的中介机构信息及其从业人员信息",
        "案件性质",
        "主要违法事实",
        "相关法律依据及税务处理处罚情况",
        "实施检查的单位",
        "税务处理决定书文号",
        "决定日期",
        "公布日期",
    ]
    rows = [
        [
            XINYUAN,
            cast(XINYUAN),
            cast(XINYUAN)[8:17],
            "东莞市长安镇振安中路28号",
            "马丽",
            "女",
            "身份证",
            "4419**********0026",
            "",
            "",
            "",
            "",
            "",
            "逃避缴纳税款",
            "2022年至2023年隐匿销售收入1,280,000.00元，少缴增值税及附加",
            "依照《中华人民共和国税收征收管理法》第六十三条，处少缴税款0.5倍罚款",
            "国家税务总局东莞市税务局第一稽查局",
            "东税一稽罚〔2025〕61号",
            "2025年11月3日",
            "2026/3/10",
        ],
    ]
    write_csv("major_tax_violation.sta.csv", header, rows)


def layout_samr_lists() -> None:
    header = [
        "企业名称",
        "统一社会信用代码/注册号",
        "列入决定书文号",
        "列入经营异常名录原因",
        "列入日期",
        "作出决定机关（列入）",
        "移出经营异常名录原因",
        "移出日期",
        "作出决定机关（移出）",
    ]
    rows = [
        [
            HENGXIN,
            cast(HENGXIN),
            "穗天市监异〔2025〕1103号",
            "未依照规定期限公示年度报告",
            "2025年7月15日",
            "广州市天河区市场监督管理局",
            "",
            "",
            "",
        ],
        [
            WEIYUAN,
            cast(WEIYUAN),
            "杭西市监异〔2025〕77号",
            "通过登记的住所或者经营场所无法联系",
            "2025/3/4",
            "杭州市西湖区市场监督管理局",
            "依法办理住所变更登记",
            "2026/3/10",
            "杭州市西湖区市场监督管理局",
        ],
    ]
    write_csv("abnormal_operation.gsxt.csv", header, rows, "gbk")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(
        [
            "企业名称",
            "统一社会信用代码/注册号",
            "法定代表人",
            "列入决定书文号",
            "列入严重违法失信名单（黑名单）原因",
            "列入日期",
            "作出决定机关（列入）",
            "移出严重违法失信名单（黑名单）原因",
            "移出日期",
            "作出决定机关（移出）",
        ]
    )
    sheet.append(
        [
            HENGXIN,
            cast(HENGXIN),
            "李强",
            "穗市监严〔2025〕0042号",
            "因提供虚假材料骗取市场主体登记，受到吊销营业执照以外的较重行政处罚",
            "2025年11月3日",
            "广州市市场监督管理局",
            "",
            "",
            "",
        ]
    )
    book.save(HERE / "serious_illegal_dishonest_enterprise.gsxt.xlsx")


def court_and_procurement_2026() -> None:
    """Issue 18's record types: 陈刚 (under 成都蓉达's restriction as its legal representative)
    is let fly once; 王伟（北京）, a defaulter, may not leave the country; 深圳新锐 is on the
    procurement blacklist and 杭州味源 is barred from tenders."""
    chen, wang = cast("陈刚", "person"), cast("王伟（北京）", "person")
    write_csv(
        "consumption_restriction_single_lifting.csv",
        ["被执行人", "身份证号码", "执行法院", "解除决定书文号", "案号", "决定日期",
         "准许的消费行为", "解除起始日期", "解除截止日期"],
        [["陈刚", chen, "成都市武侯区人民法院", "（2024）川0107执456号之一", "（2024）川0107执456号",
          "2025-08-01", "乘坐飞机", "2025-08-10", "2025-08-12"]],
        "utf-8-sig",
    )
    write_csv(
        "exit_restriction_decision.csv",
        ["被限制出境人", "身份证号码", "执行法院", "限制出境决定书文号", "案号", "决定日期"],
        [["王伟", wang, "北京市朝阳区人民法院", "（2023）京0105执1234号之二", "（2023）京0105执1234号",
          "2024-01-15"]],
    )
    write_csv(
        "procurement_debarment.csv",
        ["供应商名称", "统一社会信用代码", "处罚决定书文号", "处罚日期", "禁止参加政府采购活动截止日期",
         "违法失信行为"],
        [[XINRUI, cast(XINRUI), "深财采处〔2025〕7号", "2025-03-10", "2027-03-09",
          "提供虚假材料谋取中标"]],
    )
    write_csv(
        "tender_debarment.csv",
        ["投标人名称", "统一社会信用代码", "处罚决定书文号", "处罚日期", "取消投标资格截止日期"],
        [[WEIYUAN, cast(WEIYUAN), "杭建招罚〔2025〕2号", "2025-05-06", "2026-05-05"]],
    )


def catalog_2024_categories() -> None:
    """The 2024 catalog's other categories: 苏州恒达 pledged a patent and holds an honour;
    深圳新锐 owes social-insurance contributions; 南京瑞康 passed an inspection and supplied
    its own information."""
    write_csv(
        "ip_pledge_registration.csv",
        ["出质人", "统一社会信用代码", "质押登记号", "登记日期", "权利类型", "注册号/专利号", "质权人",
         "质押期限截止日期"],
        [[HENGDA, cast(HENGDA), "Y2025320000123", "2025-04-18", "专利权", "ZL202110012345.6",
          "中国银行苏州分行", "2027-04-17"]],
    )
    write_csv(
        "social_insurance_arrears.csv",
        ["用人单位名称", "统一社会信用代码", "责令限期缴纳决定书文号", "决定日期", "欠缴金额（元）",
         "具备缴纳能力但拒不缴纳"],
        [[XINRUI, cast(XINRUI), "深人社社保责〔2025〕18号", "2025-06-03", "182,400.00", "否"]],
    )
    write_csv(
        "honesty_honour.csv",
        ["获奖单位或个人", "统一社会信用代码", "表彰文件文号", "授予日期", "荣誉名称", "授予机关"],
        [[HENGDA, cast(HENGDA), "苏市监〔2025〕40号", "2025-03-15", "江苏省守合同重信用企业",
          "苏州市市场监督管理局"]],
    )
    write_csv(
        "admin_other_act.csv",
        ["行政相对人名称", "统一社会信用代码", "决定文书号", "检查日期", "行为类别", "检查结果", "实施机关"],
        [[RUIKANG, cast(RUIKANG), "宁市监查〔2025〕311号", "2025-09-09", "行政监督检查", "未发现问题",
          "南京市市场监督管理局"]],
    )
    write_csv(
        "voluntary_information.csv",
        ["信用主体名称", "统一社会信用代码", "受理编号", "提供日期", "信息内容"],
        [[RUIKANG, cast(RUIKANG), "XYZG-2025-000812", "2025-10-10",
          "2024年度纳税信用A级、社会责任报告一份（本主体自愿提供）"]],
    )


if __name__ == "__main__":
    defaulters()
    defaulters_bad()
    restrictions()
    penalties()
    licenses()
    professional()
    registrations()
    officers()
    abnormal()
    serious_dishonest()
    tax_violations()
    tax_ratings()
    railway()
    aviation()
    government()
    commitment_breach()
    layout_penalties()
    layout_licenses()
    layout_courts()
    layout_tax()
    layout_samr_lists()
    court_and_procurement_2026()
    catalog_2024_categories()

"""Write the sample files in this folder (seeded: the same files every run).

One file per shipped record type, each in a format departments really send, with valid codes
drawn from ``xinyong.codes``; plus one file of bad rows. Run: ``python examples/make_examples.py``.
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


def company() -> str:
    return uscc.generate(rng, authority="9", category="1")


def person(born: date | None = None) -> str:
    return ric.generate(rng, birth_date=born or date(rng.randint(1960, 1995), rng.randint(1, 12), 1))


ZXGK = [  # 中国执行信息公开网's columns for 失信被执行人
    "被执行人姓名/名称", "身份证号码/组织机构代码", "性别", "年龄", "法定代表人或者负责人姓名",
    "执行法院", "省份", "执行依据文号", "案号", "做出执行依据单位", "生效法律文书确定的义务",
    "被执行人的履行情况", "失信被执行人行为具体情形", "发布时间", "立案时间",
]


def defaulters() -> None:
    wang_1, wang_2 = person(date(1982, 5, 17)), person(date(1990, 11, 3))
    firm = company()
    rows = [
        ["王伟", wang_1, "男", "43", "", "北京市朝阳区人民法院", "北京",
         "（2023）京0105民初12345号", "（2024）京0105执1234号", "北京市朝阳区人民法院",
         "偿还借款本金人民币十二万元及利息", "全部未履行",
         "有履行能力而拒不履行生效法律文书确定义务的", "2024年3月5日", "2024/1/8"],
        ["王伟", wang_2, "男", "35", "", "上海市浦东新区人民法院", "上海",
         "（2023）沪0115民初6789号", "（2024）沪0115执567号", "上海市浦东新区人民法院",
         "支付货款人民币八万元", "部分履行", "违反财产报告制度的", "2024-04-02", "20240110"],
        ["广州市恒信建材有限公司", firm, "", "", "李强", "广州市天河区人民法院", "广东",
         "（2022）粤0106民初2233号", "（2023）粤0106执998号", "广州市天河区人民法院",
         "支付工程款人民币三百二十万元", "全部未履行",
         "以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行的", "2023/9/12", "2023-02-01"],
        ["王伟", "", "男", "", "", "河北省石家庄市长安区人民法院", "河北",
         "（2023）冀0102民初777号", "（2024）冀0102执321号", "河北省石家庄市长安区人民法院",
         "支付租金人民币二万元", "全部未履行", "违反限制消费令的", "2024年5月20日", "2024年2月1日"],
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
         "违反财产报告制度的", "2024-03-01", "2024-01-02"],
        ["钱进", bad_checksum, "男", "50", "", "杭州市西湖区人民法院", "浙江", "（2023）浙0106民初2号",
         "（2024）浙0106执11号", "杭州市西湖区人民法院", "偿还借款", "全部未履行",
         "违反财产报告制度的", "2024-03-01", "2024-01-02"],
        ["孙丽", person(), "女", "29", "", "杭州市西湖区人民法院", "浙江", "（2023）浙0106民初3号",
         "（2024）浙0106执12号", "杭州市西湖区人民法院", "偿还借款", "全部未履行",
         "违反财产报告制度的", "2024-02-30", "2024-01-02"],
        ["", person(), "男", "41", "", "杭州市西湖区人民法院", "浙江", "（2023）浙0106民初4号",
         "（2024）浙0106执13号", "杭州市西湖区人民法院", "偿还借款", "全部未履行",
         "违反财产报告制度的", "2024-03-01", "2024-01-02"],
        ["周杰", person(), "男", "33", "", "杭州市西湖区人民法院", "浙江", "（2023）浙0106民初5号",
         "（2024）浙0106执14号", "杭州市西湖区人民法院", "偿还借款", "全部未履行",
         "欠钱不还的", "2024-03-01", "2024-01-02"],
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
        ["成都蓉达物流有限公司", company(), "成都市武侯区人民法院", "（2024）川0107执456号",
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
    sheet.append(["深圳市新锐电子科技有限公司", company(), "深市监罚〔2024〕118号", "虚假宣传",
                  "在网店页面宣传产品获得国家专利，经查无此专利", "《中华人民共和国反不正当竞争法》第二十条",
                  "罚款", "罚款人民币二十万元", "20", date(2024, 1, 15), "深圳市市场监督管理局",
                  "黄志明", "一般"])
    sheet.append(["杭州味源餐饮管理有限公司", company(), "杭西市监罚〔2024〕52号", "食品安全",
                  "经营超过保质期的食品原料", "《中华人民共和国食品安全法》第一百二十四条",
                  "罚款;没收违法所得", "罚款人民币五万元", "5", "2024年2月6日",
                  "杭州市西湖区市场监督管理局", "吴海燕", "general"])
    book.save(HERE / "admin_penalty.xlsx")


def licenses() -> None:
    header = ["行政相对人名称", "统一社会信用代码", "行政许可决定文书号", "行政许可决定文书名称",
              "许可编号", "许可类别", "许可内容", "许可决定日期", "有效期至", "许可机关"]
    rows = [
        ["南京瑞康大药房连锁有限公司", company(), "苏宁药许〔2024〕16号", "药品经营许可证",
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


if __name__ == "__main__":
    defaulters()
    defaulters_bad()
    restrictions()
    penalties()
    licenses()
    professional()

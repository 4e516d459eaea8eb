"""Generate a synthetic national e-government extranet intent, in the real intent format.

    python3 benchmarks/gen_intent.py OUTDIR [--sites N] [--seed S]

Default: the national figures — 1 centre, 32 provinces (31 + XPCC), 333 cities, 2,840 counties,
the rest townships: 45,000 sites, ≈ 50,800 devices. A smaller N scales every level down
proportionally (provinces spread over the list). The address plan holds up to ≈ 55,000 sites.
Files as operators own them: sites/central.yaml, sites/<region>/province.yaml (the province and
its 省直管 counties), sites/<region>/<city-id>.yaml (a city, its counties and townships), and
network.yaml, zones.yaml, departments.yaml. OUTDIR is replaced (only if empty or made here).

Modelled: GB/T 2260 codes (PP0000, PPCC00, PPCCKK with districts 02.., counties 21.., cities
81.., 省直管 PP90KK; townships PPCCKKTTT: subdistricts 001.., towns 100.., xiang 200..); host
names encoding region, level and role (jx-c01-k21-t100-ce1); two reflector PEs per province
and at the centre; MLPS-3 sites (centre, provinces, cities, a quarter of counties) with two
uplinks to two parent PEs on two carriers, one uplink elsewhere (8 % of townships over the
Internet in IPsec, 11 % with a second CE); huawei_vrp and h3c_comware; 36 departments of all
access classes, 15 dedicated zones (half with their own 172.x block), ≈ 25,000 attachments
within each pool's LAN room; pinned province and capital prefixes, loopbacks, core mgmt.
IPv4 10.0.0.0/8: 10.0.0.0/17 centre, 10.0.128.0/17 management, 10.1.0.0/16 loopbacks,
10.2.0.0/15 links, province i (GB/T order) 10.(4i+4).0.0/14, city /19 (≤ 14 counties),
county /23 (≤ 28 townships), township /28. IPv6 fd00:e9::/32, province fd00:e9:PP00::/40.
Deterministic for N and S; validates and resolves clean.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from netgen.hardware import mbps, profile  # noqa: E402 - the hardware profiles the models must fit

NATIONAL_SITES = 45000
CAP = {"city": 30, "county": 14, "township": 28}  # children per parent the pools hold
LAN_CAP = {"central": 100, "province": 40, "city": 8, "county": 4, "township": 2}  # national LANs per site
# GB/T 2260 code, site id, region (its directory), name, abbreviation, prefecture-level divisions; 66 is XPCC.
PROVINCES = [(int(c), i, r, n, a, int(k)) for c, i, r, n, a, k in (p.split() for p in """
11 bj beijing 北京市 京 1, 12 tj tianjin 天津市 津 1, 13 he hebei 河北省 冀 11, 14 sx shanxi 山西省 晋 11,
15 nm neimenggu 内蒙古自治区 蒙 12, 21 ln liaoning 辽宁省 辽 14, 22 jl jilin 吉林省 吉 9, 23 hl heilongjiang 黑龙江省 黑 13,
31 sh shanghai 上海市 沪 1, 32 js jiangsu 江苏省 苏 13, 33 zj zhejiang 浙江省 浙 11, 34 ah anhui 安徽省 皖 16,
35 fj fujian 福建省 闽 9, 36 jx jiangxi 江西省 赣 11, 37 sd shandong 山东省 鲁 16, 41 ha henan 河南省 豫 17,
42 hb hubei 湖北省 鄂 13, 43 hn hunan 湖南省 湘 14, 44 gd guangdong 广东省 粤 21, 45 gx guangxi 广西壮族自治区 桂 14,
46 hi hainan 海南省 琼 4, 50 cq chongqing 重庆市 渝 2, 51 sc sichuan 四川省 川 21, 52 gz guizhou 贵州省 黔 9,
53 yn yunnan 云南省 滇 16, 54 xz xizang 西藏自治区 藏 7, 61 sn shaanxi 陕西省 陕 10, 62 gs gansu 甘肃省 甘 14,
63 qh qinghai 青海省 青 8, 64 nx ningxia 宁夏回族自治区 宁 5, 65 xj xinjiang 新疆维吾尔自治区 新 14,
66 bt bingtuan 新疆生产建设兵团 兵 14""".replace("\n", " ").split(","))]
SKIP_LEVEL = {41: 1, 42: 4, 46: 8, 65: 6}  # 省直管 county-level divisions (code PP90KK)
CARRIERS = ("china-telecom", "china-unicom", "china-mobile")
MODELS = {"huawei_vrp": {"central": "NE40E-X16A", "province": "NE40E-X8A", "city": "NE40E-X3A", "county": "AR6280",
                         "township": "AR651", "exit": "USG6680E", "dept": "USG6525E"},
          "h3c_comware": {"central": "CR16010H-F", "province": "CR16010H-F", "city": "SR6608-X", "county": "MSR5680",
                          "township": "MSR2630", "exit": "SecPath F5000-AI-20", "dept": "SecPath F1000-AI-20"}}
# Bigger models to move a device to when its site needs more ports than the level's model has
# (an operator buys the chassis the site's links and departments need), smallest first.
LADDERS = {"huawei_vrp": {"router": ["AR651", "AR6140", "AR6280", "NE40E-X3A", "NE40E-X8A", "NE40E-X16A"],
                          "firewall": ["USG6525E", "USG6680E"]},
           "h3c_comware": {"router": ["MSR2630", "MSR3610", "MSR5680", "SR6604-X", "SR6608-X", "CR16010H-F"],
                           "firewall": ["SecPath F1000-AI-20", "SecPath F5000-AI-20"]}}
VENDOR = {"huawei_vrp": "huawei", "h3c_comware": "h3c"}
STAMP = ".generated.json"  # what made OUTDIR: sites, seed, the generator's digest
# Department id, name, access class (A–F), dedicated zone (class D/E).
DEPARTMENTS = [(i, n, c, None if z == "-" else z) for i, n, c, z in (d.split() for d in """
gov-office 人民政府办公厅 F -, dev-reform 发展和改革 B -, education 教育 B -, sci-tech 科学技术 A -,
miit 工业和信息化 B -, civil 民政 D civil, justice 司法行政 D justice, finance 财政 D treasury,
hrss 人力资源和社会保障 D social, land 自然资源 E land, ecology 生态环境 D eco-monitor, housing 住房和城乡建设 B -,
transport 交通运输 C -, water 水利 D water, agri 农业农村 B -, commerce 商务 C -, culture 文化和旅游 A -,
health 卫生健康 D health, veterans 退役军人事务 B -, emergency 应急管理 D emergency, audit 审计 D audit,
samr 市场监督管理 C -, sport 体育 A -, stats 统计 A -, medical 医疗保障 E medical, forestry 林业和草原 B -,
grain 粮食和物资储备 A -, petition 信访 B -, archives 档案 A -, gov-service 政务服务和数据管理 F -, cma 气象 C -,
quake 地震 A -, tax 税务 E tax, court 人民法院 D court, procuratorate 人民检察院 D procuratorate,
discipline 纪检监察 D discipline""".replace("\n", " ").split(","))]
DEDICATED = [d[3] for d in DEPARTMENTS if d[3]]
OWN_BLOCK = {z: f"172.{16 + i}.0.0/16" for i, z in enumerate(DEDICATED) if i % 2 == 0}
CLASS_ZONES = {"A": ["public"], "B": ["public", "internet"], "C": ["public", "internet"], "F": ["public", "office"],
               "D": ["public", "DED", "internet"], "E": ["public", "DED", "internet"]}
ATTACH = {"province": (12, 20), "city": (3, 7), "county": (1, 4), "township": (0, 1)}  # departments per site

NETWORK = """# Network-wide settings of a synthetic national intent (benchmarks/gen_intent.py, {sites} sites).
network:
  id: zwww-bench
  name: 国家电子政务外网 (synthetic)
  asn: {{scheme: per-province, base: 4200000000}}
  addressing:
    ipv4: {{national: 10.0.0.0/8, loopbacks: 10.1.0.0/16, links: 10.2.0.0/15, management: 10.0.128.0/17}}
    ipv6: {{national: "fd00:e9::/32", loopbacks: "fd00:e9:ffff::/48", links: "fd00:e9:fffe::/48", management: "fd00:e9:fffd::/48"}}
    pool_length:
      ipv4: {{central: 17, province: 14, city: 19, county: 23, township: 28, village: 29}}
      ipv6: {{central: 40, province: 40, city: 46, county: 52, township: 58, village: 60}}
    lan_length:
      ipv4: {{central: 24, province: 24, city: 25, county: 28, township: 29, village: 29}}
  routing: {{igp: isis}}
  mlps: {{central: 3, province: 3, city: 3, county: 2, township: 2, village: 2}}
  servers:
    - {{id: ntp1, address: 10.0.128.11, services: [ntp]}}
    - {{id: ntp2, address: 10.0.128.12, services: [ntp]}}
    - {{id: log1, address: 10.0.128.21, services: [syslog]}}
    - {{id: aaa1, address: 10.0.128.31, services: [tacacs]}}
    - {{id: nms1, address: 10.0.128.41, services: [snmp, nms]}}
  security:
    ntp: [ntp1, ntp2]
    syslog: [log1]
    aaa: {{servers: [aaa1], protocol: hwtacacs, key: "secret:aaa-shared-key"}}
    snmp: {{managers: [nms1], user: netgen-nms, auth_key: "secret:snmp-auth", priv_key: "secret:snmp-priv"}}
    management_acl: [10.0.128.0/24]
    banner: "Guojia Dianzi Zhengwu Waiwang (national e-government extranet): authorised use only. All sessions are logged."
"""


def flow(v) -> str:
    """A value in YAML flow style; strings that YAML could misread are quoted."""
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {flow(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(flow(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    s = str(v)
    return f'"{s}"' if any(c in s for c in ':#,[]{}"') else s


def block(d: dict, ind: int, lines: list[str]) -> None:
    """A mapping in block style: lists of sites, devices, zones and departments as blocks, other
    lists of mappings one flow mapping per line (as operators write uplinks and attachments)."""
    pad = " " * ind
    for k, v in d.items():
        if not (isinstance(v, list) and v and isinstance(v[0], dict)):
            lines.append(f"{pad}{k}: {flow(v)}")
            continue
        lines.append(f"{pad}{k}:")
        for item in v:
            if k in ("sites", "devices", "zones", "departments"):
                sub: list[str] = []
                block(item, ind + 4, sub)
                lines.append(f"{pad}  - {sub[0].lstrip()}")
                lines.extend(sub[1:])
                if ind == 0:
                    lines.append("")
            else:
                lines.append(f"{pad}  - {flow(item)}")


def spread(total: int, weights: list[float], cap: int) -> list[int]:
    """Split `total` over the parts in proportion to `weights`, each part 1 ≤ n ≤ cap."""
    n = len(weights)
    if not n <= total <= n * cap:
        raise SystemExit(f"cannot place {total} sites under {n} parents (1..{cap} each): the size is out of range")
    w = sum(weights)
    out = [1 + min(cap - 1, int((total - n) * x / w)) for x in weights]
    left = total - sum(out)
    while left:
        for i in sorted(range(n), key=lambda i: -weights[i]):
            if left and out[i] < cap:
                out[i] += 1
                left -= 1
    return out


def county_suffixes(n: int) -> list[int]:
    """The county-level digits of a city's n divisions: 市辖区 02.., 县 21.., 县级市 81.."""
    d, c = max(1, n * 3 // 10), n // 6
    return [2 + i for i in range(d)] + [21 + i for i in range(n - d - c)] + [81 + i for i in range(c)]


class Gen:
    def __init__(self, seed: int):
        self.rnd = random.Random(seed)
        self.mgmt = self.exits = 0  # management addresses and Internet exits handed out so far
        self.count = {"devices": 0, "attachments": 0}
        self.attach: dict[str, list[dict]] = {d[0]: [] for d in DEPARTMENTS}
        self.core_attach: dict[str, list[str]] = {d[0]: [] for d in DEPARTMENTS}

    @staticmethod
    def site(sid: str, name: str, level: str, code: int, parent: str | None = None, **extra) -> dict:
        return {"id": sid, "name": name, "level": level, "code": code, **({"parent": parent} if parent else {}),
                **extra, "devices": []}

    def device(self, site: dict, suffix: str, role: str, plat: str, model: str, uplinks=(), reflector=False,
               funding: str | None = None, **extra) -> None:
        core = site["level"] in ("central", "province", "city")
        d = {"name": f"{site['id']}-{suffix}", "role": role, **({"reflector": True} if reflector else {}),
             "platform": plat, "vendor": VENDOR[plat], "model": model,
             "funding": funding or ("central-subsidy" if core else "local"), **extra}
        if core:  # pinned management addresses, 10.0.129.1 onwards
            d["mgmt"], self.mgmt = f"10.0.{129 + self.mgmt // 250}.{self.mgmt % 250 + 1}", self.mgmt + 1
        if uplinks:
            d["uplinks"] = [u if isinstance(u, dict) else dict(zip(("peer", "bandwidth", "carrier"), u)) for u in uplinks]
        if role == "exit":  # a /26 of 198.18.0.0/15 (RFC 2544 benchmarking space) each
            e, self.exits = self.exits, self.exits + 1
            ip = lambda off: f"198.{18 + e // 1024}.{e // 4 % 256}.{e % 4 * 64 + off}"  # noqa: E731
            d["firewall"], d["internet"] = True, {"isp": CARRIERS[e % 3], "address": ip(2) + "/30", "gateway": ip(1),
                                                  "nat_pool": ip(32) + "/27"}
        site["devices"].append(d)
        self.count["devices"] += 1

    def departments_at(self, site: dict, pidx: int) -> None:
        """Attach some departments at `site` within its pool's LAN room; class C/E bring their own exit
        at the centre and provinces (and at some cities), elsewhere they leave the Internet zone out."""
        level, rnd, budget = site["level"], self.rnd, LAN_CAP[site["level"]]
        k = len(DEPARTMENTS) if level == "central" else int(rnd.random() < 0.4) if level == "township" \
            else rnd.randint(*ATTACH[level])
        for dept, _, cls, ded in sorted(rnd.sample(DEPARTMENTS, k), key=DEPARTMENTS.index):
            zones = full = [ded if z == "DED" else z for z in CLASS_ZONES[cls]]
            entry: dict = {"site": site["id"]}
            if level in ("county", "township") and len(full) > 1:
                zones = [ded or ("office" if cls == "F" else "public")]
            elif cls in "CE" and (level != "city" or rnd.random() < 0.3):
                entry["exit"] = f"{site['id']}-{dept}-fw1"
            elif cls in "CE":
                zones = [z for z in full if z != "internet"]
            cost = sum(z not in OWN_BLOCK for z in zones)
            if cost > budget:
                continue
            budget -= cost
            if zones is not full:
                entry["zones"] = zones
            if "exit" in entry:
                plat, pes = site["devices"][0]["platform"], [(d["name"], "1G") for d in site["devices"] if d["role"] == "pe"]
                self.device(site, f"{dept}-fw1", "exit", plat, MODELS[plat]["dept"], pes[:2], department=dept,
                            funding="department")
            if level == "province" and ded in OWN_BLOCK:  # a pinned LAN in the zone's own block
                entry["prefixes"] = {ded: OWN_BLOCK[ded].replace(".0.0/16", f".{pidx}.0/24")}
            if level in ("central", "province"):
                self.core_attach[dept].append(site["id"])
            self.attach[dept].append(entry)
            self.count["attachments"] += 1

    def county(self, sid: str, name: str, code: int, parent: dict, towns: int, pidx: int, skip=False) -> list[dict]:
        """A county and its townships."""
        rnd, up_pe = self.rnd, [d["name"] for d in parent["devices"] if d["role"] == "pe"]
        plat = rnd.choice(list(MODELS))
        two = rnd.random() < 0.25  # a larger county, built to MLPS level 3
        k = self.site(sid, name, "county", code, parent["id"], **({"skip_level": True} if skip else {}),
                      **({"mlps": 3} if two else {}))
        c = rnd.randrange(3)
        self.device(k, "pe1", "pe", plat, MODELS[plat]["county"], [(up_pe[0 if two else c % 2], "1G", CARRIERS[c])])
        if two:
            self.device(k, "pe2", "pe", plat, MODELS[plat]["county"], [(up_pe[1], "1G", CARRIERS[(c + 1) % 3])])
        self.departments_at(k, pidx)
        pes = [d["name"] for d in k["devices"] if d["role"] == "pe"]
        out = [k]
        nums = [1 + i for i in range(towns // 4)] + [100 + i for i in range(towns // 2)]  # 街道, 镇
        nums += [200 + i for i in range(towns - len(nums))]  # 乡
        for i, n in enumerate(nums):
            t = self.site(f"{sid}-t{n:03d}", f"{name[:-1]}{n:03d}{('街道', '镇', '乡')[n // 100]}", "township",
                          code * 1000 + n, sid)
            tplat = rnd.choice(list(MODELS)) if rnd.random() < 0.3 else plat
            c = rnd.randrange(3)
            up = {"peer": pes[i % len(pes)], "bandwidth": "100M", "carrier": CARRIERS[c]}
            if rnd.random() < 0.08:
                up.update(transport="internet", ipsec=True)
            self.device(t, "ce1", "ce", tplat, MODELS[tplat]["township"], [up])
            if rnd.random() < 0.11:
                self.device(t, "ce2", "ce", tplat, MODELS[tplat]["township"],
                            [(pes[(i + 1) % len(pes)], "100M", CARRIERS[(c + 1) % 3])])
            self.departments_at(t, pidx)
            out.append(t)
        return out


def fits(model: str, needs: list[float]) -> bool:
    """Whether `model`'s ports carry `needs` (bandwidths in Mbit/s), each at the speed netgen's
    allocation gives it (model/ports.py: the slowest line rate that carries it)."""
    prof = profile(model)
    want = Counter(prof.speed_for(n) for n in needs)
    have = Counter(p.speed for p in prof.ports)
    return None not in want and all(have[s] >= k for s, k in want.items())


def fit_models(sites: list[dict], attach: dict[str, list[dict]]) -> None:
    """Give each device the smallest model of its ladder that has the ports it needs: its links
    (both ends), its Internet port and the department LANs it is the access device of."""
    devices = {d["name"]: d for s in sites for d in s["devices"]}
    needs: dict[str, list[float]] = {name: [] for name in devices}
    for d in devices.values():
        for up in d.get("uplinks", ()):
            needs[d["name"]].append(mbps(up["bandwidth"]))
            needs[up["peer"]].append(mbps(up["bandwidth"]))
        if d.get("internet"):
            needs[d["name"]].append(1000)
    first = {s["id"]: next((d["name"] for role in ("ce", "pe") for d in s["devices"] if d["role"] == role), None)
             for s in sites}
    for entries in attach.values():
        for a in entries:
            if first.get(a["site"]):
                needs[first[a["site"]]].append(1000)
    for name, d in devices.items():
        if fits(d["model"], needs[name]):
            continue
        ladder = LADDERS[d["platform"]][profile(d["model"]).hardware.kind]
        bigger = [m for m in ladder[ladder.index(d["model"]) + 1:] if fits(m, needs[name])]
        if not bigger:
            raise SystemExit(f"{name}: no {d['platform']} model has the ports it needs ({len(needs[name])})")
        d["model"] = bigger[0]


def write(path: Path, header: str, key: str, items: list[dict]) -> None:
    lines = [f"# {header}"]
    block({key: items}, 0, lines)
    path.write_text("\n".join(lines), encoding="utf-8")


def generate(out: Path, sites: int = NATIONAL_SITES, seed: int = 1) -> dict:
    """Write the intent into `out`; returns what it holds (sites and devices per level, ...)."""
    f = sites / NATIONAL_SITES
    n = {"province": min(32, max(1, round(32 * f)))}
    n["city"] = max(n["province"], round(333 * f))
    chosen = [PROVINCES[int((i + 0.5) * 32 / n["province"])] for i in range(n["province"])]
    skip = {p[0]: max(1, round(SKIP_LEVEL[p[0]] * f)) for p in chosen if p[0] in SKIP_LEVEL}
    n["county"] = max(n["city"] + sum(skip.values()), round(2840 * f))
    n["township"] = sites - 1 - sum(n.values())
    g = Gen(seed)
    cities = spread(n["city"], [p[5] for p in chosen], CAP["city"])
    counties = iter(spread(n["county"] - sum(skip.values()), [g.rnd.uniform(0.5, 1.5) for _ in range(n["city"])],
                           CAP["county"]))
    towns = iter(spread(n["township"], [g.rnd.uniform(0.4, 1.6) for _ in range(n["county"])], CAP["township"]))

    if out.exists():
        if any(out.iterdir()) and not (out / STAMP).exists():
            raise SystemExit(f"{out} is not empty and was not written by this script: refusing to replace it")
        shutil.rmtree(out)
    (out / "sites").mkdir(parents=True)
    (out / "network.yaml").write_text(NETWORK.format(sites=sites), encoding="utf-8")

    central = g.site("central", "国家电子政务外网中心", "central", 100000,
                     prefix={"ipv4": "10.0.0.0/17", "ipv6": "fd00:e9::/40"})
    g.device(central, "pe1", "pe", "huawei_vrp", "NE40E-X16A", reflector=True, loopback={"ipv4": "10.1.0.1"})
    g.device(central, "pe2", "pe", "huawei_vrp", "NE40E-X16A", [("central-pe1", "100G")], reflector=True,
             loopback={"ipv4": "10.1.0.2"})
    g.device(central, "exit1", "exit", "huawei_vrp", "USG6680E", [("central-pe1", "10G"), ("central-pe2", "10G")])
    g.departments_at(central, 0)
    files = [(out / "sites" / "central.yaml", "The central network (中央), run by the national center.", [central])]

    for (code, pid, region, name, abbr, _), ncity in zip(chosen, cities):
        pidx = PROVINCES.index((code, pid, region, name, abbr, _))
        plat, base, c = ("huawei_vrp", "h3c_comware")[pidx % 2], 4 * pidx + 4, g.rnd.randrange(3)
        p = g.site(pid, name, "province", code * 10000, "central", region=region,
                   prefix={"ipv4": f"10.{base}.0.0/14", "ipv6": f"fd00:e9:{code}00::/40"})
        g.device(p, "pe1", "pe", plat, MODELS[plat]["province"], [("central-pe1", "10G", CARRIERS[c])],
                 reflector=True, loopback={"ipv4": f"10.1.{code}.1"})
        g.device(p, "pe2", "pe", plat, MODELS[plat]["province"], [("central-pe2", "10G", CARRIERS[(c + 1) % 3]),
                 (f"{pid}-pe1", "10G")], reflector=True, loopback={"ipv4": f"10.1.{code}.2"})
        g.device(p, "exit1", "exit", plat, MODELS[plat]["exit"], [(f"{pid}-pe1", "10G"), (f"{pid}-pe2", "10G")])
        g.departments_at(p, pidx)
        body = [p]
        for kk in range(1, skip.get(code, 0) + 1):  # 省直管: county-level divisions below the province
            body += g.county(f"{pid}-c90-k{kk:02d}", f"{abbr}90{kk:02d}市", code * 10000 + 9000 + kk, p, next(towns),
                             pidx, skip=True)
        pdir = out / "sites" / region
        pdir.mkdir()
        files.append((pdir / "province.yaml", f"{name}: the provincial network and what it administers directly.",
                      body))
        for cc in range(1, ncity + 1):
            cid, ccode, cplat, c = f"{pid}-c{cc:02d}", code * 100 + cc, g.rnd.choice(list(MODELS)), g.rnd.randrange(3)
            city = g.site(cid, f"{abbr}{cc:02d}市", "city", ccode * 100, pid,
                          **({"prefix": {"ipv4": f"10.{base}.32.0/19"}} if cc == 1 else {}))
            g.device(city, "pe1", "pe", cplat, MODELS[cplat]["city"], [(f"{pid}-pe1", "10G", CARRIERS[c])])
            g.device(city, "pe2", "pe", cplat, MODELS[cplat]["city"], [(f"{pid}-pe2", "10G", CARRIERS[(c + 1) % 3])])
            g.departments_at(city, pidx)
            body = [city]
            for kk in county_suffixes(next(counties)):
                word = "区" if kk < 21 else "县" if kk < 81 else "市"
                body += g.county(f"{cid}-k{kk:02d}", f"{abbr}{cc:02d}{kk:02d}{word}", ccode * 100 + kk, city,
                                 next(towns), pidx)
            files.append((pdir / f"{cid}.yaml", f"{city['name']} ({cid}) and below, run by the city's operator.",
                          body))

    fit_models([s for _, _, body in files for s in body], g.attach)
    for path, header, body in files:
        write(path, header, "sites", body)

    zones = [{"id": "public", "name": "公用网络区", "kind": "public", "vpn_id": 100,
              "allow": [{"from": "internet", "via": "secure-access"}]},
             {"id": "internet", "name": "互联网接入区", "kind": "internet", "vpn_id": 200,
              "allow": [{"from": "public", "via": "nat-firewall"}]},
             {"id": "office", "name": "政府系统办公业务区", "kind": "office", "vpn_id": 300},
             {"id": "mgmt", "name": "管理区", "kind": "management", "vpn_id": 900}]
    for i, (dept, dname, _, ded) in enumerate(d for d in DEPARTMENTS if d[3]):
        zones.append({"id": ded, "name": f"{dname}专网", "kind": "dedicated", "vpn_id": 1001 + i, "members": [dept],
                      **({"ipv4": OWN_BLOCK[ded]} if ded in OWN_BLOCK else {})})
    write(out / "zones.yaml", "Zones: one VPN each across the backbone; dedicated ones for D/E departments.", "zones",
          zones)

    depts = [{"id": dept, "name": dname, "class": cls, **({"dedicated": [ded]} if ded else {}), "attach": g.attach[dept],
              "systems": [{"name": f"{dname}业务系统", "zone": ded or ("office" if cls == "F" else "public"),
                           **({"mlps": 3, "sites": g.core_attach[dept][:6]} if cls in "DEF" else {"mlps": 2})}]}
             for dept, dname, cls, ded in DEPARTMENTS]  # a level-3 system runs at the centre and provinces only
    write(out / "departments.yaml", "Departments, their access class (A–F) and where they attach.", "departments",
          depts)

    summary = {"sites": sites, **n, **g.count, "internet_exits": g.exits}
    digest = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
    (out / STAMP).write_text(json.dumps({"sites": sites, "seed": seed, "generator": digest, "summary": summary}))
    return summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path, help="output directory (replaced)")
    ap.add_argument("--sites", type=int, default=NATIONAL_SITES, help=f"total sites (default {NATIONAL_SITES})")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if args.sites < 10:
        ap.error("--sites must be at least 10")
    print(json.dumps(generate(args.out, args.sites, args.seed)))


if __name__ == "__main__":
    main()

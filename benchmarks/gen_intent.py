"""Generate a synthetic national intent in the real intent format.

    python3 benchmarks/gen_intent.py OUT [--sites N] [--seed S]

Default: the national figures — 1 centre, 32 provinces, 333 cities, 2,840 counties, 38,600
townships (41,806 sites, ≈54,700 devices). Smaller N scales every level down proportionally.
One file per province and one per city (the city, its counties and townships), the way
operators own their files. The output validates and resolves clean; deterministic for N and S.
"""
from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

NATIONAL = {"province": 32, "city": 333, "county": 2840, "township": 38600}
PROVINCE_CODES = [11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51,
                  52, 53, 54, 61, 62, 63, 64, 65, 66]
CARRIERS = ("china-telecom", "china-unicom", "china-mobile")

NETWORK = """network:
  id: zwww-bench
  name: 国家电子政务外网 (benchmark)
  asn: {scheme: per-province, base: 4200000000}
  addressing:
    ipv4: {national: 10.0.0.0/8, loopbacks: 10.0.0.0/16, management: 10.1.0.0/16, links: 10.2.0.0/15}
    pool_length:
      ipv4: {central: 14, province: 14, city: 18, county: 22, township: 26, village: 29}
    lan_length:
      ipv4: {central: 24, province: 24, city: 26, county: 28, township: 29, village: 29}
  servers:
    - {id: ntp1, address: 10.1.0.11, services: [ntp]}
    - {id: log1, address: 10.1.0.21, services: [syslog]}
    - {id: aaa1, address: 10.1.0.31, services: [tacacs]}
    - {id: nms1, address: 10.1.0.41, services: [snmp, nms]}
  security:
    ntp: [ntp1]
    syslog: [log1]
    aaa: {servers: [aaa1], key: "secret:aaa"}
    snmp: {managers: [nms1], user: nms, auth_key: "secret:snmp-auth", priv_key: "secret:snmp-priv"}
    management_acl: [10.1.0.0/24]
"""


def dev(name, role, platform, uplinks, **extra) -> str:
    vendor = "huawei" if platform == "huawei_vrp" else "h3c"
    ups = ", ".join(uplinks)
    more = "".join(f", {k}: {v}" for k, v in extra.items())
    return (f"      - {{name: {name}, role: {role}, platform: {platform}, vendor: {vendor}, model: M1, "
            f"funding: central-subsidy{more}, uplinks: [{ups}]}}\n")


def up(peer, bw="10G", carrier=0, internet=False) -> str:
    extra = ", transport: internet, ipsec: true" if internet else ""
    return f"{{peer: {peer}, bandwidth: {bw}, carrier: {CARRIERS[carrier % 3]}{extra}}}"


def site(sid, level, code, parent, devices, **extra) -> str:
    head = f"  - id: {sid}\n    name: {sid}\n    level: {level}\n    code: {code}\n"
    if parent:
        head += f"    parent: {parent}\n"
    head += "".join(f"    {k}: {v}\n" for k, v in extra.items())
    return head + "    devices:\n" + devices


def split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def exit_device(name, platform, peers, n) -> str:
    return dev(name, "exit", platform, [up(p) for p in peers], firewall="true",
               internet=f"{{isp: china-telecom, address: 198.18.{n}.2/30, gateway: 198.18.{n}.1, "
                        f"nat_pool: 198.18.{n}.64/27}}")


def generate(out: Path, sites: int, seed: int = 1) -> dict:
    rnd = random.Random(seed)
    f = min(1.0, sites / sum(NATIONAL.values()))
    n = {lvl: max(1, round(c * f)) for lvl, c in NATIONAL.items()}
    n["province"] = min(n["province"], 32)
    shutil.rmtree(out, ignore_errors=True)
    (out / "sites").mkdir(parents=True)
    (out / "network.yaml").write_text(NETWORK, encoding="utf-8")
    dedicated = [f"vpn{i}" for i in range(1, 6)]
    zones = ["zones:", "  - {id: public, name: 公用网络区, kind: public, vpn_id: 100, "
             "allow: [{from: internet, via: secure-access}]}",
             "  - {id: internet, name: 互联网接入区, kind: internet, vpn_id: 200, allow: [{from: public, via: nat-firewall}]}",
             "  - {id: office, name: 办公区, kind: office, vpn_id: 300}",
             "  - {id: mgmt, name: 管理区, kind: management, vpn_id: 900}"]
    zones += [f"  - {{id: {z}, name: {z}, kind: dedicated, vpn_id: {1000 + i}, members: [dept{i}]}}"
              for i, z in enumerate(dedicated)]
    (out / "zones.yaml").write_text("\n".join(zones) + "\n", encoding="utf-8")
    central = site("central", "central", 100000, None,
                   dev("central-pe1", "pe", "huawei_vrp", [], reflector="true")
                   + dev("central-pe2", "pe", "huawei_vrp", [], reflector="true")
                   + exit_device("central-exit1", "huawei_vrp", ["central-pe1", "central-pe2"], 0))
    (out / "sites" / "central.yaml").write_text("sites:\n" + central, encoding="utf-8")
    all_sites, devices = ["central"], 3
    cities_per = split(n["city"], n["province"])
    counties_per = split(n["county"], n["city"])
    towns_per = split(n["township"], n["county"])
    ci = ki = 0
    for pi in range(n["province"]):
        code = PROVINCE_CODES[pi]
        p, plat = f"p{code}", "huawei_vrp" if pi % 2 else "h3c_comware"
        pdir = out / "sites" / p
        pdir.mkdir()
        body = site(p, "province", code * 10000, "central",
                    dev(f"{p}-pe1", "pe", plat, [up("central-pe1", carrier=0)], reflector="true")
                    + dev(f"{p}-pe2", "pe", plat, [up("central-pe2", carrier=1), up(f"{p}-pe1")], reflector="true")
                    + exit_device(f"{p}-exit1", plat, [f"{p}-pe1", f"{p}-pe2"], pi + 1))
        (pdir / "province.yaml").write_text("sites:\n" + body, encoding="utf-8")
        all_sites.append(p)
        devices += 3
        for c in range(cities_per[pi]):
            cid, ccode = f"{p}-c{c + 1:02d}", code * 10000 + (c + 1) * 100
            blocks = [site(cid, "city", ccode, p, dev(f"{cid}-pe1", "pe", plat, [up(f"{p}-pe1", carrier=0)])
                           + dev(f"{cid}-pe2", "pe", plat, [up(f"{p}-pe2", carrier=1)]))]
            all_sites.append(cid)
            devices += 2
            for k in range(counties_per[ci]):
                kid, kcode = f"{cid}-k{k + 1:02d}", ccode + k + 1
                blocks.append(site(kid, "county", kcode, cid,
                                   dev(f"{kid}-pe1", "pe", plat, [up(f"{cid}-pe1", "1G", 0)])
                                   + dev(f"{kid}-pe2", "pe", plat, [up(f"{cid}-pe2", "1G", 1)])))
                all_sites.append(kid)
                devices += 2
                for t in range(towns_per[ki]):
                    tid = f"{kid}-t{t + 1:03d}"
                    inet = rnd.random() < 0.1
                    ces = dev(f"{tid}-ce1", "ce", plat, [up(f"{kid}-pe1", "100M", 2, inet)])
                    devices += 1
                    if t % 4 == 0:
                        ces += dev(f"{tid}-ce2", "ce", plat, [up(f"{kid}-pe2", "100M", 0)])
                        devices += 1
                    blocks.append(site(tid, "township", kcode * 1000 + 100 + t, kid, ces))
                    all_sites.append(tid)
                ki += 1
            ci += 1
            (pdir / f"{cid}.yaml").write_text("sites:\n" + "".join(blocks), encoding="utf-8")
    depts = ["departments:"]
    load: dict[str, int] = {}
    for i in range(20):
        ded = i < len(dedicated)
        # at most two departments per site: a township pool holds eight LANs
        where = sorted(x for x in rnd.sample(all_sites, max(1, len(all_sites) // 60)) if load.get(x, 0) < 2)
        for x in where:
            load[x] = load.get(x, 0) + 1
        depts.append(f"  - id: dept{i}\n    name: 部门{i}\n    class: {'D' if ded else 'B'}")
        if ded:
            depts.append(f"    dedicated: [{dedicated[i]}]")
        depts.append("    attach:\n" + "\n".join(f"      - {{site: {s}}}" for s in where))
    (out / "departments.yaml").write_text("\n".join(depts) + "\n", encoding="utf-8")
    return {"sites": len(all_sites), "devices": devices}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--sites", type=int, default=sum(NATIONAL.values()) + 1)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    print(generate(args.out, args.sites, args.seed))


if __name__ == "__main__":
    main()

import fc from "fast-check";
import { deriveMac, isHostIPv4, isMacAddress, isMulticastMac, parseIpv4Network, placeInNetwork } from "../config/network";

describe("deriveMac", () => {
  test("always a well-formed, locally administered, unicast MAC, the same for the same input", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (cluster, nodeName) => {
        const mac = deriveMac(cluster, nodeName);
        expect(isMacAddress(mac)).toBe(true);
        const first = parseInt(mac.slice(0, 2), 16);
        expect(first & 0x02).toBe(0x02);
        expect(isMulticastMac(mac)).toBe(false);
        expect(deriveMac(cluster, nodeName)).toBe(mac);
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  test("differs between nodes and between clusters", () => {
    const macs = new Set<string>();
    for (const cluster of ["demo-cluster", "lab"]) {
      for (let i = 1; i <= 100; i++) macs.add(deriveMac(cluster, `node-${i}`));
    }
    expect(macs.size).toBe(200);
  });
});

describe("address checks", () => {
  test.each([
    ["10.0.10.11", true],
    ["192.168.1.254", true],
    ["10.0.10.256", false],
    ["10.0.10", false],
    ["010.0.10.1", false],
    ["127.0.0.1", false],
    ["0.1.2.3", false],
    ["224.0.0.1", false],
    [" 10.0.0.1", false],
  ])("isHostIPv4(%s) is %s", (ip, ok) => {
    expect(isHostIPv4(ip)).toBe(ok);
  });

  test("multicast is the lowest bit of the first octet", () => {
    expect(isMulticastMac("01:00:5E:00:00:01")).toBe(true);
    expect(isMulticastMac("03:00:00:00:00:01")).toBe(true);
    expect(isMulticastMac("02:00:00:00:00:01")).toBe(false);
    expect(isMulticastMac("BC:24:11:00:00:01")).toBe(false);
  });
});

describe("IPv4 networks (static addressing)", () => {
  test("a network is an address with its host bits zero and a prefix from 1 to 30", () => {
    expect(parseIpv4Network("10.0.10.0/24")).toEqual({ network: 0x0a000a00, broadcast: 0x0a000aff, prefixLength: 24 });
    expect(parseIpv4Network("192.168.0.0/16")).toMatchObject({ prefixLength: 16 });
    for (const bad of ["10.0.10.1/24", "10.0.10.0", "10.0.10.0/31", "10.0.10.0/32", "10.0.10.0/0", "10.0.256.0/24", "10.0.10.0/24x", "fd00::/64"]) {
      expect([bad, parseIpv4Network(bad)]).toEqual([bad, undefined]);
    }
  });

  test("an address is a host of its network unless it is the network or broadcast address", () => {
    const net = parseIpv4Network("10.0.10.0/24")!;
    expect(["10.0.10.0", "10.0.10.1", "10.0.10.254", "10.0.10.255", "10.0.11.1", "10.0.9.255"].map((ip) => placeInNetwork(ip, net))).toEqual([
      "network",
      "host",
      "host",
      "broadcast",
      "outside",
      "outside",
    ]);
  });

  test("for any prefix, the first and last address bound the network and everything between is a host", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 1, max: 30 }), (n, prefixLength) => {
        const size = 2 ** (32 - prefixLength);
        const base = Math.floor(n / size) * size;
        const dotted = (v: number) => [24, 16, 8, 0].map((shift) => Math.floor(v / 2 ** shift) % 256).join(".");
        const net = parseIpv4Network(`${dotted(base)}/${prefixLength}`)!;
        expect(net).toEqual({ network: base, broadcast: base + size - 1, prefixLength });
        expect(placeInNetwork(dotted(base + 1), net)).toBe("host");
        expect(placeInNetwork(dotted(base + size - 2), net)).toBe("host");
        if (base + size <= 2 ** 32 - 1) expect(placeInNetwork(dotted(base + size), net)).toBe("outside");
      }),
      { numRuns: 300, seed: 11 },
    );
  });
});

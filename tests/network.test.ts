import fc from "fast-check";
import { deriveMac, isHostIPv4, isMacAddress, isMulticastMac } from "../components/network";

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

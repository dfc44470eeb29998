import { PROXMOX_CONFIG, runProgram, stackConfig } from "./helpers/program";

test("smoke", async () => {
  const run = await runProgram({ ...stackConfig("dev"), ...PROXMOX_CONFIG });
  console.log(run.mocks.registrations.map((r) => `${r.type} ${r.name}`).join("\n"));
  console.log(run.mocks.calls.map((r) => `${r.token}`).join("\n"));
  console.log(JSON.stringify(run.values, null, 1).slice(0, 3000));
  const run2 = await runProgram({ ...stackConfig("dev"), ...PROXMOX_CONFIG });
  console.log(run2.mocks.registrations.length, run.mocks.registrations.length);
});

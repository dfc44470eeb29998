import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { NginxApp } from "../components/nginxApp";
import { FAKE_KUBECONFIG, RecordingMocks, settle, unwrap, useMocks, valueOf } from "../testkit/mocks";

describe("NginxApp", () => {
  const mocks = new RecordingMocks();
  let app: NginxApp;
  beforeAll(async () => {
    useMocks(mocks);
    const provider = new k8s.Provider("cluster-k8s", { kubeconfig: pulumi.secret(FAKE_KUBECONFIG) });
    app = new NginxApp("demo-nginx", {
      provider,
      image: "nginx:1.28.0",
      replicas: 3,
      nodeIp: "10.0.10.11",
    });
    await valueOf(app.url);
    await settle();
  });

  test("the Deployment and Service use that provider, never the ambient kubeconfig", () => {
    const [provider] = mocks.ofType("pulumi:providers:kubernetes");
    for (const type of ["kubernetes:apps/v1:Deployment", "kubernetes:core/v1:Service"]) {
      const [r] = mocks.ofType(type);
      expect(r.provider).toMatch(new RegExp(`::${provider.name}::${provider.name}-id$`));
    }
  });

  test("Deployment: pinned image, replicas, readiness probe", () => {
    const [deployment] = mocks.ofType("kubernetes:apps/v1:Deployment");
    const spec = unwrap(deployment.inputs.spec) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(spec.replicas).toBe(3);
    const [container] = spec.template.spec.containers;
    expect(container.image).toBe("nginx:1.28.0");
    expect(container.readinessProbe).toEqual({ httpGet: { path: "/", port: "http" }, periodSeconds: 5 });
    expect(spec.selector.matchLabels).toEqual(spec.template.metadata.labels);
  });

  test("NodePort Service on port 80; URL from a node IP and the allocated port", async () => {
    const [service] = mocks.ofType("kubernetes:core/v1:Service");
    const spec = unwrap(service.inputs.spec) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(spec.type).toBe("NodePort");
    expect(spec.ports).toEqual([{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }]);
    expect(await valueOf(app.url)).toBe("http://10.0.10.11:31080");
  });
});

// The quickstart (examples/quickstart) as a Pulumi TypeScript program. `@pulumi/thanos` is the
// SDK that `pulumi package add terraform-provider /absolute/path/to/terraform-provider-thanos`
// generates into sdks/thanos and adds to package.json; see docs/guides/pulumi.md.
import * as pulumi from "@pulumi/pulumi";
import * as thanos from "@pulumi/thanos";

const config = new pulumi.Config();
const namespace = config.get("namespace") ?? "default";
const ingestorReplicas = config.getNumber("ingestorReplicas") ?? 2;

const ingestor = new thanos.Receive("ingestor", {
    name: "ingestor",
    namespace,
    replicas: ingestorReplicas,
    ingestor: { dataVolume: { pvc: { size: "5Gi" } } },
});

const router = new thanos.Receive("router", {
    name: "router",
    namespace,
    replicas: 2,
    router: {
        // Known at preview time: a change of ingestorReplicas shows the ring change.
        softTenantHashring: { name: "test", endpoints: ingestor.ingestorEndpoints },
    },
});

// No `name`: Pulumi names it `sample-<7 hex digits>` (auto-naming). Set `name` for a fixed one.
const sample = new thanos.Query("sample", {
    namespace,
    stores: [{ address: ingestor.storeEndpoint }],
});

/** Point Prometheus remote_write here. */
export const remoteWriteUrl = router.remoteWriteUrl;
/** The router's hashrings as written to hashrings.json. */
export const hashrings = router.hashrings;
export const queryName = sample.name;
/** The querier's HTTP API inside the cluster. */
export const queryUrl = sample.httpUrl;

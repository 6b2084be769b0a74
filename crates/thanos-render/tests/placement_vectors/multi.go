package main

// Whole hashrings.json files: several rings, tenants matched exactly or by glob, shuffle
// sharding with per-tenant overrides, with and without availability zones, and the files or
// tenants Thanos refuses. Each file is parsed and built exactly as a router does
// (receive.ParseConfig, receive.NewMultiHashring) and asked, for every tenant of the case and
// each of the first seriesPerTenant series' label sets, where every replica goes.

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/thanos-io/thanos/pkg/receive"
	"github.com/thanos-io/thanos/pkg/store/storepb/prompb"
)

// seriesPerTenant: label sets per tenant (the tenant decides the ring and, with shuffle
// sharding, the shard; the labels then place the series in it).
const seriesPerTenant = 40

type multiCase struct {
	Name              string          `json:"name"`
	ReplicationFactor uint64          `json:"replication_factor"`
	Config            json.RawMessage `json:"config"`
	Tenants           []string        `json:"tenants"`
	// Series: how many of the file's series (from the first) each tenant writes.
	Series int `json:"series"`
	// Addresses: every distinct endpoint address of the file, sorted; replicas are indices.
	Addresses []string `json:"addresses"`
	// Outcome: "ok" (the file builds; per tenant TenantErrors and Replicas) or "error" (Thanos
	// refuses the file: Error).
	Outcome string `json:"outcome"`
	Error   string `json:"error,omitempty"`
	// TenantErrors: per tenant, "" or the error of that tenant's writes.
	TenantErrors []string `json:"tenant_errors,omitempty"`
	// Replicas: per tenant, per series, the replicas' addresses (empty for a tenant in error).
	Replicas [][][]int `json:"replicas,omitempty"`
}

func pod(i int) string { return podAddress(i) }

// ep is an endpoint as hashrings.json writes it: a string, or an object with an az.
func ep(i int, az string) any {
	if az == "" {
		return pod(i)
	}
	return map[string]string{"address": pod(i), "az": az}
}

func eps(from, to int, azs ...string) []any {
	var out []any
	for i := from; i < to; i++ {
		az := ""
		if len(azs) > 0 {
			az = azs[(i-from)%len(azs)]
		}
		out = append(out, ep(i, az))
	}
	return out
}

var multiTenants = []string{
	"default-tenant", "team-a", "team-b", "team-c", "team-", "teamx", "big-1", "big-22",
	"prod-a1", "prod-d1", "dev-*", "dev-x", "", "テナント", "a/b", "y", "xy", "zy",
	"tenant-0", "tenant-1", "tenant-2", "tenant-3", "tenant-4", "tenant-5",
}

func multiCases() []multiCase {
	type ring = map[string]any
	var out []multiCase
	add := func(name string, rf uint64, rings ...ring) {
		b, err := json.Marshal(rings)
		if err != nil {
			panic(err)
		}
		out = append(out, multiCase{Name: name, ReplicationFactor: rf, Config: b, Tenants: multiTenants, Series: seriesPerTenant})
	}
	// Tenants: exact and glob rings in order, the soft ring last; the algorithm per ring.
	for _, rf := range []uint64{1, 2} {
		add(fmt.Sprintf("tenants-exact-glob-soft-rf%d", rf), rf,
			ring{"hashring": "exact", "tenants": []string{"team-a", "team-b", "dev-*"}, "algorithm": "ketama", "endpoints": eps(0, 3)},
			ring{"hashring": "glob", "tenants": []string{"team-*", "prod-[a-c]?", "dev-\\*", "[^x]y"}, "tenant_matcher_type": "glob", "endpoints": eps(3, 5)},
			ring{"hashring": "soft", "algorithm": "ketama", "endpoints": eps(5, 9)},
		)
	}
	// No ring for some tenants; a glob that only a path separator stops.
	add("tenants-no-soft-ring", 1,
		ring{"hashring": "only", "tenants": []string{"team-?", "a*"}, "tenant_matcher_type": "glob", "algorithm": "ketama", "endpoints": eps(0, 2)},
	)
	// A malformed glob: writes of every tenant that reaches it fail.
	add("tenants-bad-glob", 1,
		ring{"hashring": "first", "tenants": []string{"team-a"}, "endpoints": eps(0, 1)},
		ring{"hashring": "bad", "tenants": []string{"prod-[a"}, "tenant_matcher_type": "glob", "endpoints": eps(1, 2)},
		ring{"hashring": "soft", "endpoints": eps(2, 3)},
	)
	// External labels and object endpoints parse; they do not move series.
	add("external-labels", 2,
		ring{"hashring": "labelled", "tenants": []string{"team-a"}, "algorithm": "ketama", "external_labels": map[string]string{"region": "eu", "tier": "gold"}, "endpoints": eps(0, 3, "a", "b", "c")},
		ring{"hashring": "soft", "algorithm": "ketama", "endpoints": eps(3, 6)},
	)
	// Shuffle sharding without zones, with overrides (exact, glob, and one without a matcher
	// type, which Thanos never applies).
	shuffle := func(size int, overrides ...map[string]any) map[string]any {
		c := map[string]any{"shard_size": size}
		if len(overrides) > 0 {
			c["overrides"] = overrides
		}
		return c
	}
	override := func(size int, matcher string, tenants ...string) map[string]any {
		o := map[string]any{"shard_size": size, "tenants": tenants}
		if matcher != "" {
			o["tenant_matcher_type"] = matcher
		}
		return o
	}
	for _, rf := range []uint64{1, 2, 3} {
		add(fmt.Sprintf("shuffle-8-size3-rf%d", rf), rf,
			ring{"hashring": "soft", "algorithm": "ketama", "endpoints": eps(0, 8), "shuffle_sharding_config": shuffle(3,
				override(5, "exact", "team-a", "team-b"),
				override(4, "glob", "big-*"),
				override(6, "", "team-c"),
			)},
		)
	}
	// A shard smaller than the replication factor: every tenant's writes fail.
	add("shuffle-size2-rf3", 3,
		ring{"hashring": "soft", "algorithm": "ketama", "endpoints": eps(0, 6), "shuffle_sharding_config": shuffle(2)},
	)
	add("shuffle-size-equals-ring", 2,
		ring{"hashring": "soft", "algorithm": "ketama", "endpoints": eps(0, 4), "shuffle_sharding_config": shuffle(4)},
	)
	add("shuffle-cache-size-1", 2,
		ring{"hashring": "soft", "algorithm": "ketama", "endpoints": eps(0, 6), "shuffle_sharding_config": map[string]any{"shard_size": 2, "cache_size": 1}},
	)
	// Shuffle sharding with zones: ceil(size / zones) endpoints from every zone.
	for _, c := range []struct {
		name string
		n    int
		azs  []string
		size int
		rf   uint64
	}{
		{"3x3-size3-rf3", 9, []string{"a", "b", "c"}, 3, 3},
		{"3x3-size5-rf2", 9, []string{"a", "b", "c"}, 5, 2},
		{"3x3-size4-rf3", 9, []string{"a", "b", "c"}, 4, 3},
		{"2x4-size3-rf2", 8, []string{"a", "b"}, 3, 2},
		{"3+1-size2-rf1", 4, []string{"a", "a", "a", "b"}, 2, 1},
		// ceil(4/2) = 2 from zone b, which has 1: every tenant's writes fail.
		{"3+1-size4-rf1", 4, []string{"a", "a", "a", "b"}, 4, 1},
		// Endpoints without a zone form the zone "".
		{"2+none2-size2-rf2", 4, []string{"a", ""}, 2, 2},
	} {
		add("shuffle-zones-"+c.name, c.rf,
			ring{"hashring": "soft", "algorithm": "ketama", "endpoints": eps(0, c.n, c.azs...), "shuffle_sharding_config": shuffle(c.size, override(c.size+2, "exact", "team-a"))},
		)
	}
	// Zone awareness disabled: the shard is drawn from all endpoints as one zone (seeded
	// without a zone), and its ketama ring still spreads replicas over the endpoints' zones.
	for _, c := range []struct {
		name string
		n    int
		azs  []string
		size int
		rf   uint64
	}{
		{"3x3-size4-rf3", 9, []string{"a", "b", "c"}, 4, 3},
		{"3x3-size5-rf2", 9, []string{"a", "b", "c"}, 5, 2},
		// With zone awareness this shard fails (zone b has 1 endpoint); without, it does not.
		{"3+1-size4-rf1", 4, []string{"a", "a", "a", "b"}, 4, 1},
	} {
		cfg := shuffle(c.size, override(c.size+1, "exact", "team-a"))
		cfg["zone_awareness_disabled"] = true
		add("shuffle-zones-unaware-"+c.name, c.rf,
			ring{"hashring": "soft", "algorithm": "ketama", "endpoints": eps(0, c.n, c.azs...), "shuffle_sharding_config": cfg},
		)
	}
	// Refused files: a shard larger than the ring, shuffle sharding with hashmod.
	add("shuffle-larger-than-ring", 1,
		ring{"hashring": "soft", "algorithm": "ketama", "endpoints": eps(0, 3), "shuffle_sharding_config": shuffle(4)},
	)
	add("shuffle-with-hashmod", 1,
		ring{"hashring": "soft", "algorithm": "hashmod", "endpoints": eps(0, 3), "shuffle_sharding_config": shuffle(2)},
	)
	// Several shuffle-sharded rings: each caches its own tenants.
	add("shuffle-two-rings", 2,
		ring{"hashring": "hard", "tenants": []string{"team-*"}, "tenant_matcher_type": "glob", "algorithm": "ketama", "endpoints": eps(0, 5), "shuffle_sharding_config": shuffle(2)},
		ring{"hashring": "soft", "algorithm": "ketama", "endpoints": eps(5, 12, "a", "b"), "shuffle_sharding_config": shuffle(4)},
	)
	return out
}

// runMulti builds the file as a router does and places every tenant's series.
func runMulti(c *multiCase, all []series) {
	cfg, err := receive.ParseConfig(c.Config)
	if err != nil {
		panic(fmt.Sprintf("%s: %v", c.Name, err))
	}
	seen := map[string]bool{}
	for _, h := range cfg {
		for _, e := range h.Endpoints {
			seen[e.Address] = true
		}
	}
	for a := range seen {
		c.Addresses = append(c.Addresses, a)
	}
	sort.Strings(c.Addresses)
	index := func(a string) int {
		i := sort.SearchStrings(c.Addresses, a)
		if i == len(c.Addresses) || c.Addresses[i] != a {
			panic("Thanos returned an endpoint that is not in the file: " + a)
		}
		return i
	}
	h, err := receive.NewMultiHashring(receive.AlgorithmHashmod, c.ReplicationFactor, cfg, prometheus.NewRegistry())
	if err != nil {
		c.Outcome, c.Error = "error", err.Error()
		return
	}
	c.Outcome = "ok"
	for _, tenant := range c.Tenants {
		perTenant, tenantErr := placeTenant(h, tenant, all[:c.Series], c.ReplicationFactor)
		if tenantErr != "" {
			c.TenantErrors = append(c.TenantErrors, tenantErr)
			c.Replicas = append(c.Replicas, nil)
			continue
		}
		c.TenantErrors = append(c.TenantErrors, "")
		var rows [][]int
		for _, addrs := range perTenant {
			var row []int
			for _, a := range addrs {
				row = append(row, index(a))
			}
			rows = append(rows, row)
		}
		c.Replicas = append(c.Replicas, rows)
	}
}

// placeTenant asks for every replica of every series of one tenant; a tenant whose writes
// fail gives Thanos's error (a placement that does not finish gives "hangs").
func placeTenant(h receive.Hashring, tenant string, ss []series, rf uint64) ([][]string, string) {
	type result struct {
		rows [][]string
		err  string
	}
	done := make(chan result, 1)
	go func() {
		var rows [][]string
		for _, s := range ss {
			ts := &prompb.TimeSeries{Labels: zlabels(s.Labels)}
			var row []string
			for n := uint64(0); n < rf; n++ {
				e, err := h.GetN(tenant, ts, n)
				if err != nil {
					done <- result{err: err.Error()}
					return
				}
				row = append(row, e.Address)
			}
			rows = append(rows, row)
		}
		done <- result{rows: rows}
	}()
	select {
	case r := <-done:
		if r.err == "" && len(r.rows) == 0 && len(ss) > 0 {
			return nil, "no placement"
		}
		return r.rows, strings.TrimSpace(r.err)
	case <-time.After(hangTimeout):
		return nil, "hangs"
	}
}

// Command placement_vectors writes the test vectors of crates/thanos-render/src/placement.rs:
// for a fixed list of rings (algorithm, replication factor, endpoints with optional AZ) and a
// fixed list of series (tenant, labels), the endpoints that the pinned Thanos's own receive
// hashring code writes each series to. The Rust tests assert that the renderer's
// reimplementation agrees on every one. Everything here is fixed: no randomness, no clock,
// so regenerating against the same Thanos version rewrites the same file.
//
// Usage: go run . > vectors.json (regen.sh does that; see README.md).
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/thanos-io/thanos/pkg/receive"
	"github.com/thanos-io/thanos/pkg/store/labelpb"
	"github.com/thanos-io/thanos/pkg/store/storepb/prompb"
)

// thanosVersion is written into the file; it must match the require line of go.mod.
const thanosVersion = "v0.42.5"

// hangTimeout is how long building one ring may take before it counts as never finishing.
// A ring that finishes takes milliseconds; ketama with an AZ spread it cannot satisfy loops
// forever inside Thanos (calculateSectionReplicas in pkg/receive/hashring.go).
const hangTimeout = 10 * time.Second

type endpoint struct {
	Address string `json:"address"`
	AZ      string `json:"az,omitempty"`
}

type series struct {
	Tenant string      `json:"tenant"`
	Labels [][2]string `json:"labels"`
	// Hash is labelpb.HashWithPrefix(tenant, labels): the value both algorithms place by.
	Hash uint64 `json:"hash"`
}

type ringCase struct {
	Name              string     `json:"name"`
	Algorithm         string     `json:"algorithm"`
	ReplicationFactor uint64     `json:"replication_factor"`
	Endpoints         []endpoint `json:"endpoints"`
	// Outcome is "ok" (Replicas holds, per series in file order, the endpoint GetN returns
	// for n = 0..replication_factor-1, as its position in Endpoints: the first one with that
	// address), "error" (Error holds Thanos's message: the ring is refused when loaded, or
	// every GetN fails) or "hangs" (building the ring did not finish).
	Outcome  string  `json:"outcome"`
	Error    string  `json:"error,omitempty"`
	Replicas [][]int `json:"replicas,omitempty"`
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "go-rand-table" {
		if err := writeCookedTable(os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	all := seriesList()
	cases := ringCases()
	for i := range cases {
		run(&cases[i], all)
	}
	multi := multiCases()
	for i := range multi {
		runMulti(&multi[i], all)
	}
	if err := write(os.Stdout, all, cases, multi, goRandCases()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Goroutines still building a hanging ring are abandoned here, by exiting.
	os.Exit(0)
}

// run builds the ring with Thanos's own constructor (from hashrings.json text, as receive
// reads it) and asks it for every replica of every series.
func run(c *ringCase, all []series) {
	cfg, err := receive.ParseConfig(configJSON(c))
	if err != nil {
		panic(fmt.Sprintf("%s: %v", c.Name, err))
	}
	type built struct {
		h   receive.Hashring
		err error
	}
	done := make(chan built, 1)
	go func() {
		h, err := receive.NewMultiHashring(receive.AlgorithmHashmod, c.ReplicationFactor, cfg, prometheus.NewRegistry())
		done <- built{h, err}
	}()
	var b built
	select {
	case b = <-done:
	case <-time.After(hangTimeout):
		c.Outcome = "hangs"
		return
	}
	if b.err != nil {
		c.Outcome, c.Error = "error", b.err.Error()
		return
	}
	for _, s := range all {
		ts := &prompb.TimeSeries{Labels: zlabels(s.Labels)}
		var got []int
		for n := uint64(0); n < c.ReplicationFactor; n++ {
			e, err := b.h.GetN(s.Tenant, ts, n)
			if err != nil {
				c.Outcome, c.Error, c.Replicas = "error", err.Error(), nil
				return
			}
			got = append(got, position(c.Endpoints, e.Address))
		}
		c.Replicas = append(c.Replicas, got)
	}
	c.Outcome = "ok"
}

// position is the index of the first endpoint with this address.
func position(eps []endpoint, address string) int {
	for i, e := range eps {
		if e.Address == address {
			return i
		}
	}
	panic("Thanos returned an endpoint that is not in the ring: " + address)
}

// configJSON is the hashrings.json of one ring without tenants: endpoints without an AZ as
// plain strings, with one as {"address", "az"} objects (both forms Thanos accepts).
func configJSON(c *ringCase) []byte {
	eps := make([]any, len(c.Endpoints))
	for i, e := range c.Endpoints {
		if e.AZ == "" {
			eps[i] = e.Address
		} else {
			eps[i] = e
		}
	}
	b, err := json.Marshal([]map[string]any{{
		"hashring":  c.Name,
		"algorithm": c.Algorithm,
		"endpoints": eps,
	}})
	if err != nil {
		panic(err)
	}
	return b
}

func zlabels(ls [][2]string) []labelpb.ZLabel {
	out := make([]labelpb.ZLabel, len(ls))
	for i, l := range ls {
		out[i] = labelpb.ZLabel{Name: l[0], Value: l[1]}
	}
	return out
}

// seriesList: a few tenants times label sets chosen to cover the hashed byte layout (no
// labels, one label, realistic sets, labels out of name order, more than 1 KiB of labels,
// which Thanos hashes through its streaming path, non-ASCII text) plus enough plain synthetic
// series that rare cases (a series on the last sections of the ring, which wraps, or on the
// last of an endpoint's sections) are met by some.
func seriesList() []series {
	long := strings.Repeat("abcdefghij", 150) // 1500 bytes: past HashWithPrefix's 1 KiB buffer
	var many [][2]string
	for i := 0; i < 40; i++ {
		many = append(many, [2]string{fmt.Sprintf("label_%02d", i), fmt.Sprintf("value-%d-%s", i, strings.Repeat("x", i))})
	}
	sets := [][][2]string{
		{},
		{{"__name__", "up"}},
		{{"__name__", "http_requests_total"}, {"code", "200"}, {"instance", "10.0.0.1:8080"}, {"job", "api"}},
		{{"__name__", "node_cpu_seconds_total"}, {"cpu", "3"}, {"mode", "idle"}},
		{{"job", "api"}, {"__name__", "up"}}, // out of name order: hashed as given
		{{"__name__", "big"}, {"payload", long}},
		many,
		{{"__name__", "température"}, {"ville", "Zürich"}, {"город", "Москва"}},
		{{"", ""}},
	}
	tenants := []string{"default-tenant", "team-a", "", "テナント"}
	var out []series
	for _, t := range tenants {
		for _, ls := range sets {
			out = append(out, series{Tenant: t, Labels: ls})
		}
	}
	for i := len(out); i < 1000; i++ {
		out = append(out, series{
			Tenant: tenants[i%len(tenants)],
			Labels: [][2]string{{"__name__", "placement_vector"}, {"i", strconv.Itoa(i)}, {"job", "job-" + strconv.Itoa(i%5)}},
		})
	}
	for i := range out {
		out[i].Hash = labelpb.HashWithPrefix(out[i].Tenant, zlabels(out[i].Labels))
	}
	return out
}

func podAddress(i int) string {
	return fmt.Sprintf("thanos-receive-ingestor-%d.thanos-receive-ingestor.monitoring.svc:10901", i)
}

func endpoints(addrs []string, azs ...string) []endpoint {
	out := make([]endpoint, len(addrs))
	for i, a := range addrs {
		out[i].Address = a
		if len(azs) > 0 {
			out[i].AZ = azs[i]
		}
	}
	return out
}

func pods(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = podAddress(i)
	}
	return out
}

// ringCases: both algorithms on rings of 0..7 endpoints with replication factors 1..3, some
// other address shapes and orders, duplicated endpoints, and ketama with AZ layouts (even,
// uneven, partly without AZ, one AZ, and layouts whose spread Thanos cannot satisfy).
func ringCases() []ringCase {
	var out []ringCase
	add := func(name, alg string, rf uint64, eps []endpoint) {
		out = append(out, ringCase{Name: name, Algorithm: alg, ReplicationFactor: rf, Endpoints: eps})
	}
	for _, alg := range []string{"hashmod", "ketama"} {
		for n := 0; n <= 7; n++ {
			for rf := uint64(1); rf <= 3; rf++ {
				add(fmt.Sprintf("%s-pods%d-rf%d", alg, n, rf), alg, rf, endpoints(pods(n)))
			}
		}
		ips := []string{"10.0.3.17:10901", "10.0.1.5:10901", "[fd00::7]:10901", "10.0.2.200:10901", "10.0.0.9:19291"}
		add(alg+"-ips-rf1", alg, 1, endpoints(ips))
		add(alg+"-ips-rf2", alg, 2, endpoints(ips))
		rev := pods(4)
		for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
			rev[i], rev[j] = rev[j], rev[i]
		}
		add(alg+"-pods4-reversed-rf2", alg, 2, endpoints(rev))
		dup := []string{podAddress(0), podAddress(1), podAddress(0), podAddress(2)}
		for rf := uint64(1); rf <= 3; rf++ {
			add(fmt.Sprintf("%s-duplicate-rf%d", alg, rf), alg, rf, endpoints(dup))
		}
		add(alg+"-same-twice-rf2", alg, 2, endpoints([]string{podAddress(5), podAddress(5)}))
	}
	add("hashmod-az-refused", "hashmod", 1, endpoints(pods(3), "a", "b", "c"))

	azLayouts := []struct {
		name string
		azs  []string
		rfs  []uint64
	}{
		{"3x1", []string{"a", "b", "c"}, []uint64{1, 2, 3}},
		{"3x2", []string{"a", "b", "c", "a", "b", "c"}, []uint64{1, 2, 3}},
		{"3x2-grouped", []string{"a", "a", "b", "b", "c", "c"}, []uint64{2, 3}},
		{"2+1", []string{"a", "a", "b"}, []uint64{1, 2, 3}},
		{"3+1", []string{"a", "b", "a", "a"}, []uint64{2, 3, 4}}, // 4 cannot be spread
		{"4+1", []string{"a", "a", "a", "a", "b"}, []uint64{3, 4}},
		{"2+2", []string{"a", "b", "a", "b"}, []uint64{2, 3, 4}},
		{"3+2", []string{"a", "a", "a", "b", "b"}, []uint64{3, 5}},
		{"1+1+3", []string{"a", "b", "c", "c", "c"}, []uint64{3, 4, 5}}, // 5 cannot be spread
		{"3+2+2", []string{"a", "b", "c", "a", "b", "c", "a"}, []uint64{1, 2, 3}},
		{"2+none2", []string{"a", "", "a", ""}, []uint64{1, 2, 3}}, // endpoints without AZ form the zone ""
		{"one-zone", []string{"a", "a", "a", "a"}, []uint64{2, 3}},
		{"dup-2+1", []string{"a", "a", "b", "a"}, []uint64{2, 3}},
	}
	for _, l := range azLayouts {
		addrs := pods(len(l.azs))
		if strings.HasPrefix(l.name, "dup-") {
			addrs[3] = addrs[0] // the same endpoint (address and AZ) twice
		}
		for _, rf := range l.rfs {
			add(fmt.Sprintf("ketama-az-%s-rf%d", l.name, rf), "ketama", rf, endpoints(addrs, l.azs...))
		}
	}
	return out
}

// write prints the file: one series or ring per line, so a regeneration diffs readably.
func write(f *os.File, all []series, cases []ringCase, multi []multiCase, goRand []goRandCase) error {
	var b strings.Builder
	fmt.Fprintf(&b, "{\n\"thanos\": %q,\n\"series\": [\n", thanosVersion)
	for i, s := range all {
		line, err := json.Marshal(s)
		if err != nil {
			return err
		}
		b.Write(line)
		if i+1 < len(all) {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("],\n\"rings\": [\n")
	for i, c := range cases {
		line, err := json.Marshal(c)
		if err != nil {
			return err
		}
		b.Write(line)
		if i+1 < len(cases) {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("],\n\"files\": [\n")
	for i, c := range multi {
		line, err := json.Marshal(c)
		if err != nil {
			return err
		}
		b.Write(line)
		if i+1 < len(multi) {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("],\n\"go_rand\": [\n")
	for i, c := range goRand {
		line, err := json.Marshal(c)
		if err != nil {
			return err
		}
		b.Write(line)
		if i+1 < len(goRand) {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("]\n}\n")
	_, err := f.WriteString(b.String())
	return err
}

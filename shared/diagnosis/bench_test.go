package diagnosis_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/denyfix/denyfix/shared/mototest"
)

// BenchmarkDiagnoseLatency50ms diagnoses sample events against moto with
// 50 ms added to every AWS call, as a distant region would. The checks run
// concurrently, so a diagnosis costs a few round trips (the longest chain of
// dependent calls, e.g. HeadObject then GetKeyPolicy), not the sum of its
// calls. Reported: API calls per diagnosis and the time in units of the
// injected latency.
func BenchmarkDiagnoseLatency50ms(b *testing.B) {
	const latency = 50 * time.Millisecond
	srv := mototest.Start(b)
	setup := newClients(srv.Config(), srv.URL)
	for _, event := range []string{"s3-kms.json", "s3-bucket-policy-deny-vpce.json", "s3-policy-arn-whitespace.json"} {
		b.Run(strings.TrimSuffix(event, ".json"), func(b *testing.B) {
			srv.Reset(b)
			rec := loadEvent(b, event)
			build(b, setup, event, &rec)
			slow := &slowTransport{base: http.DefaultTransport, delay: latency}
			cfg := srv.Config()
			cfg.HTTPClient = &http.Client{Transport: slow}
			runner := newClients(cfg, srv.URL).runner()
			// moto loads each service's backend on first use; keep that
			// one-time cost out of the measurement.
			runner.Diagnose(ctx, rec)
			slow.calls.Store(0)
			b.ResetTimer()
			start := time.Now()
			for b.Loop() {
				if _, ok := runner.Diagnose(ctx, rec); !ok {
					b.Fatal("not a denial")
				}
			}
			elapsed := time.Since(start)
			b.ReportMetric(float64(slow.calls.Load())/float64(b.N), "calls/op")
			b.ReportMetric(float64(elapsed)/float64(b.N)/float64(latency), "latencies/op")
		})
	}
}

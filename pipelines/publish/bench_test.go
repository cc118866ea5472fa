package publish

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkTagAndCopy: an existing 3-platform index (2 layers of 1 MiB
// per platform) gets 5 tags in its registry and is copied, with the same
// tags, to a second, empty registry. Both registries are in-process on
// loopback.
func BenchmarkTagAndCopy(b *testing.B) {
	benchTagAndCopy(b, false)
}

// BenchmarkTagAndCopyTargetHasBlobs is the same, with the second
// registry already holding the blobs (a re-publish of the same build).
func BenchmarkTagAndCopyTargetHasBlobs(b *testing.B) {
	benchTagAndCopy(b, true)
}

func benchTagAndCopy(b *testing.B, warm bool) {
	a, _ := newRegistry(b)
	idx := sizedIndex(b, 1<<20)
	src := pushIndex(b, a, "app", idx)
	p := &Publisher{Retry: fast()}
	ctx := context.Background()
	target, _ := newRegistry(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !warm {
			b.StopTimer()
			target, _ = newRegistry(b)
			b.StartTimer()
		}
		n := fmt.Sprint(i)
		_, err := p.Publish(ctx, Request{
			Source: src,
			Repos:  []string{a + "/app", target + "/app" + n},
			Tags:   tagList("1.2."+n+"!", "1.2", "1", "latest", "sha-"+fmt.Sprintf("%07d", i)+"!"),
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

package daggertest

import (
	"strings"
	"testing"

	"dagger.io/dagger"
)

// TestQueryRecordingAnswersLeavesAndRecordsArguments checks the harness
// itself: the real SDK's query text is recorded, a canned answer reaches
// the caller, and object arguments carry their origin in the ID.
func TestQueryRecordingAnswersLeavesAndRecordsArguments(t *testing.T) {
	client, conn := New(t, OnPath("hello\n", "withExec", "stdout"))
	ctx := t.Context()
	cache := client.CacheVolume("go-mod")
	out, err := client.Container(dagger.ContainerOpts{Platform: "linux/arm64"}).
		From("golang:1.26").
		WithMountedCache("/go/pkg/mod", cache).
		WithExec([]string{"go", "version"}).
		Stdout(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if out != "hello\n" {
		t.Errorf("stdout = %q", out)
	}
	q := conn.AssertQueried(t, `platform:"linux/arm64"`, `from(address:"golang:1.26")`, `withExec(args:["go","version"])`, "stdout")
	if !strings.Contains(q, `withMountedCache(cache:"id1:cacheVolume(key:\"go-mod\")", path:"/go/pkg/mod")`) {
		t.Errorf("cache volume origin not visible in the query: %s", q)
	}
	if len(conn.Matching("nosuchfragment")) != 0 {
		t.Error("Matching found a fragment that was never sent")
	}
}

func TestQueryErrorAnswerReachesTheCaller(t *testing.T) {
	client, _ := New(t, On("stdout", ErrorAnswer{Message: "exit code 1: boom"}))
	_, err := client.Container().From("alpine").WithExec([]string{"false"}).Stdout(t.Context())
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err = %v", err)
	}
}

// TestQueryInlineFragmentsOfAStartedServiceAreAnswered uses the object
// Service.Start returns, which the SDK queries as node(id:){... on
// Service{...}}.
func TestQueryInlineFragmentsOfAStartedServiceAreAnswered(t *testing.T) {
	client, conn := New(t, OnPath("reg.internal:5000", "node", "endpoint"))
	ctx := t.Context()
	svc := client.Container().From("registry:3").WithExposedPort(5000).AsService()
	started, err := svc.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ep, err := started.Endpoint(ctx, dagger.ServiceEndpointOpts{Port: 5000})
	if err != nil {
		t.Fatal(err)
	}
	if ep != "reg.internal:5000" {
		t.Errorf("endpoint = %q", ep)
	}
	// start's default answer is an ID naming its origin, and the started
	// object is loaded by exactly that ID.
	q := conn.AssertQueried(t, `node(id:"id1:container.from(address:\"registry:3\").withExposedPort(port:5000).asService"){... on Service{endpoint(port:5000)}}`)
	if q == "" {
		return
	}
	if _, err := started.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	conn.AssertQueried(t, `node(id:"id1:`, `){... on Service{stop}}`)
	if strings.Count(conn.All(), "... on Service") != 2 {
		t.Errorf("queries:\n%s", conn.All())
	}
}

func TestQueryFilesWrittenInGoReadBack(t *testing.T) {
	client, _ := New(t)
	body := "{\"bomFormat\": \"CycloneDX\"}\nline 2"
	got, err := client.Directory().WithNewFile("sbom.json", body).File("sbom.json").Contents(t.Context())
	if err != nil || got != body {
		t.Errorf("read back %q, %v", got, err)
	}
	got, _ = client.Directory().WithNewFile("a.txt", "a").File("b.txt").Contents(t.Context())
	if got != "" {
		t.Errorf("another file's contents came back: %q", got)
	}
}

package sign

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"dagger.io/dagger"

	"github.com/paved-ci/paved/pipelines/daggertest"
	"github.com/paved-ci/paved/pipelines/pipeline"
	"github.com/paved-ci/paved/pipelines/results"
)

// answers serves secret plaintext and file contents by the name the test
// gave them (the recording conn's IDs carry the creating query).
func glueAnswers(values map[string]string) daggertest.Answer {
	return func(l daggertest.Leaf) (any, bool) {
		if l.Name() != "plaintext" && l.Name() != "contents" {
			return nil, false
		}
		q := l.Query
		for name, v := range values {
			if strings.Contains(q, name) {
				return v, true
			}
		}
		return nil, false
	}
}

func TestQuerySignImageReadsSecretsInMemoryAndSigns(t *testing.T) {
	const pw = "SENTINEL-glue-pw-93ab"
	tr := newRegistry(t)
	k := newKey(t, pw)
	d := tr.pushRandom(t, "app", "v1")
	client, conn := daggertest.New(t, glueAnswers(map[string]string{
		"cosign-key": string(k.priv), "cosign-password": pw, "sbom.json": testSBOM, "trivy.json": string(trivyReport("HIGH")),
	}))
	// IDs as the engine would hand them to a module function.
	key := client.LoadSecretFromID("cosign-key")
	pass := client.LoadSecretFromID("cosign-password")
	sbom := client.LoadFileFromID("sbom.json")
	vuln := client.LoadFileFromID("trivy.json")

	res, err := SignImage(t.Context(), Inputs{Image: d.String(), Key: key, Password: pass, SBOM: sbom, VulnReport: vuln, Provenance: testProvenance()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Mode != ModeKey || len(res.Attestations) != 3 {
		t.Fatalf("result %+v", res)
	}
	conn.AssertQueried(t, `loadSecretFromID(id:"cosign-key"){plaintext}`)
	conn.AssertQueried(t, `loadSecretFromID(id:"cosign-password"){plaintext}`)
	conn.AssertQueried(t, `loadFileFromID(id:"sbom.json"){contents}`)
	// The plaintext never goes back to the engine (no env, no argument).
	conn.AssertNotQueried(t, pw)
	conn.AssertNotQueried(t, "withSecretVariable")
	conn.AssertNotQueried(t, "withEnvVariable")

	v, err := Verify(context.Background(), d.String(), Policy{PublicKey: k.pub, Require: allTypes, MaxSeverity: "HIGH"}, fastRegistry)
	if err != nil || !v.Passed {
		t.Fatalf("verify what the glue signed: %v %v", err, v.Err())
	}
}

func TestQuerySignStageSignsThePublishedDigest(t *testing.T) {
	tr := newRegistry(t)
	k := newKey(t, "pw")
	d := tr.pushRandom(t, "app", "v1")
	client, _ := daggertest.New(t, glueAnswers(map[string]string{"cosign-key": string(k.priv), "cosign-password": "pw", "sbom.json": testSBOM}))
	st := &pipeline.State{Client: client, Reports: map[string]*dagger.File{"sbom": client.LoadFileFromID("sbom.json")}, Results: results.New(testProvenance().Started)}
	stage := Stage{Inputs: Inputs{Key: client.LoadSecretFromID("cosign-key"), Password: client.LoadSecretFromID("cosign-password")}}
	if skip, why := stage.Skip(st); !skip || why == "" {
		t.Fatal("sign stage ran with nothing published")
	}
	st.Results.Image = &results.Image{Ref: d.String(), Digest: d.DigestStr()}
	if skip, _ := stage.Skip(st); skip {
		t.Fatal("sign stage skipped a published image")
	}
	var got *Result
	stage.OnResult = func(r *Result) { got = r }
	if err := stage.Run(t.Context(), st); err != nil {
		t.Fatal(err)
	}
	if got == nil || st.Results.Image.Signature != got.SignatureTag || !tr.exists(t, got.SignatureTag) {
		t.Fatalf("signature not recorded: %+v %+v", st.Results.Image, got)
	}
	v, err := Verify(context.Background(), d.String(), Policy{PublicKey: k.pub, Require: []string{"cyclonedx", "slsaprovenance1"}}, fastRegistry)
	if err != nil || !v.Passed {
		t.Fatalf("%v %v", err, v.Err())
	}
}

func TestQueryVerifyImageReadsKeyFileAndRegistrySecret(t *testing.T) {
	const regPw = "SENTINEL-verify-registry"
	tr := newRegistry(t)
	k := newKey(t, "pw")
	d := tr.pushRandom(t, "app", "v1")
	signAll(t, tr, d, k)
	tr.setHook(func(r *http.Request) (int, time.Duration) {
		if u, p, ok := r.BasicAuth(); !ok || u != "ci" || p != regPw {
			return http.StatusUnauthorized, 0
		}
		return 0, 0
	})
	client, conn := daggertest.New(t, glueAnswers(map[string]string{"cosign.pub": string(k.pub), "registry-password": regPw}))
	v, err := VerifyImage(t.Context(), d.String(), client.LoadFileFromID("cosign.pub"), Policy{Require: allTypes, MaxSeverity: "HIGH"},
		Access{Username: "ci", Password: client.LoadSecretFromID("registry-password")})
	if err != nil || !v.Passed {
		t.Fatalf("%v %v", err, v.Err())
	}
	conn.AssertQueried(t, `loadFileFromID(id:"cosign.pub"){contents}`)
	conn.AssertQueried(t, `loadSecretFromID(id:"registry-password"){plaintext}`)
	conn.AssertNotQueried(t, regPw)
}

package sign

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/paved-ci/paved/internal/fulciotest"
	"github.com/paved-ci/paved/pipelines/daggertest"
)

// The engine glue hands cosign its secrets as dagger secrets: the OIDC
// token and the Docker config as mounted secret files readable by the
// image's user. No exec argument and no plain variable carries one, and
// every run is kept out of the engine's cache.
func TestQueryContainerRunnerPassesSecretsAsSecrets(t *testing.T) {
	const regPW = "SENTINEL-runner-registry-77e2"
	tok := fulciotest.JWT(map[string]string{"iss": testIssuer, "sub": "repo:acme/app", "email": testEmail})
	tr := newRegistry(t)
	d := tr.pushRandom(t, "app", "v1")
	client, conn := daggertest.New(t, daggertest.On("user", "65532"))
	r := ContainerRunner{Client: client, Image: "mirror.example/cosign@sha256:" + strings.Repeat("c", 64)}

	res, err := SignWith(t.Context(), Credentials{Keyless: &Keyless{IDToken: []byte(tok), FulcioURL: "https://fulcio.example"}}, Request{
		Image: d.String(), SBOM: []byte(testSBOM), Registry: Registry{Username: "ci", Password: []byte(regPW)}, Cosign: r,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Mode != ModeKeyless || res.PublicKey != "" {
		t.Fatalf("result %+v", res)
	}
	conn.AssertQueried(t, `from(address:"mirror.example/cosign@sha256:cccc`)
	last := conn.AssertQueried(t, `withExec(args:["cosign","attest","--type","cyclonedx","--predicate","/paved/predicate.json","--replace","--identity-token","/paved/oidc-token"`,
		`withExec(args:["cosign","sign","--identity-token","/paved/oidc-token"`)
	for _, frag := range []string{
		`withMountedSecret(mode:256, owner:"65532", path:"/paved/oidc-token"`,
		`withMountedSecret(mode:256, owner:"65532", path:"/paved/docker/config.json"`,
		`withEnvVariable(name:"DOCKER_CONFIG", value:"/paved/docker")`,
		`withEnvVariable(name:"PAVED_COSIGN_RUN"`,
		`"--yes","` + d.String() + `"]`,
	} {
		if !strings.Contains(last, frag) {
			t.Errorf("the sign exec's query lacks %s", frag)
		}
	}
	// Secrets reach the engine only through setSecret: never in an exec's
	// arguments, a plain variable or a file written into the container.
	plain := regexp.MustCompile(`withExec\(args:\[[^\]]*\]|withEnvVariable\([^)]*\)|withNewFile\([^)]*\)`)
	for _, q := range conn.Queries() {
		for _, m := range plain.FindAllString(q, -1) {
			for _, secret := range []string{tok, regPW} {
				if strings.Contains(m, secret) {
					t.Errorf("secret in %s", m)
				}
			}
		}
	}
}

func TestQueryContainerRunnerReportsCosignsFailure(t *testing.T) {
	client, _ := daggertest.New(t, daggertest.On("stdout",
		daggertest.ExecFailure(1, "", "Error: no signatures found\nerror during command execution: no signatures found", "cosign", "verify", "--key", "/paved/cosign.pub", "x")))
	r := ContainerRunner{Client: client, Image: "cosign"}
	outs, err := r.Run(t.Context(), []Call{{Args: []string{"verify", "--key", Dir + "/cosign.pub", "x"}}})
	var ce *CallError
	if !errors.As(err, &ce) || len(outs) != 0 {
		t.Fatalf("outs %q err %v", outs, err)
	}
	if ce.Index != 0 || ce.ExitCode != 1 || ce.Args[0] != "verify" || !strings.Contains(ce.Stderr, "no signatures found") || ce.Err != nil {
		t.Fatalf("call error %+v", ce)
	}
	if got := cosignReason(err); got != "no signatures found" {
		t.Errorf("reason %q", got)
	}
}

// A key signature is made in this process: the user's key file and
// password never reach the engine, not even as a secret, and no cosign
// container runs, yet the signature and attestation are in the registry.
func TestQueryUserKeyAndPasswordStayInProcess(t *testing.T) {
	const pw = "SENTINEL-user-pw-4a7e"
	tr := newRegistry(t)
	k := newKey(t, pw)
	d := tr.pushRandom(t, "app", "v1")
	client, conn := daggertest.New(t)
	res, err := SignWith(t.Context(), Credentials{Key: k.priv, Password: []byte(pw)}, Request{Image: d.String(), SBOM: []byte(testSBOM), Cosign: ContainerRunner{Client: client, Image: "cosign"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.PublicKey != string(k.pub) {
		t.Errorf("public key is not the user's")
	}
	if qs := conn.Queries(); len(qs) != 0 {
		t.Errorf("signing with a key sent %d queries to the engine, want none; first: %.200s", len(qs), qs[0])
	}
	for _, tag := range []string{res.SignatureTag, res.AttestationTag} {
		if !tr.exists(t, tag) {
			t.Errorf("%s was not pushed", tag)
		}
	}
}

package sign

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/paved-ci/paved/pipelines/daggertest"
)

// The engine glue hands cosign its secrets as dagger secrets: the key and
// the Docker config as mounted secret files readable by the image's user,
// the password as a secret variable. No exec argument and no plain
// variable carries one, and every run is kept out of the engine's cache.
func TestQueryContainerRunnerPassesSecretsAsSecrets(t *testing.T) {
	const pw = "SENTINEL-runner-pw-5c1d"
	const regPW = "SENTINEL-runner-registry-77e2"
	tr := newRegistry(t)
	k := newKey(t, pw)
	d := tr.pushRandom(t, "app", "v1")
	client, conn := daggertest.New(t, daggertest.On("user", "65532"))
	r := ContainerRunner{Client: client, Image: "mirror.example/cosign@sha256:" + strings.Repeat("c", 64)}

	res, err := SignWith(t.Context(), Credentials{Key: k.priv, Password: []byte(pw)}, Request{
		Image: d.String(), SBOM: []byte(testSBOM), Registry: Registry{Username: "ci", Password: []byte(regPW)}, Cosign: r,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Mode != ModeKey || res.PublicKey != string(k.pub) {
		t.Fatalf("result %+v", res)
	}
	conn.AssertQueried(t, `from(address:"mirror.example/cosign@sha256:cccc`)
	last := conn.AssertQueried(t, `withExec(args:["cosign","attest","--type","cyclonedx","--predicate","/paved/predicate.json","--replace","--key","/paved/cosign.key","--tlog-upload=false"`,
		`withExec(args:["cosign","sign","--key","/paved/cosign.key","--tlog-upload=false"`)
	for _, frag := range []string{
		`withMountedSecret(mode:256, owner:"65532", path:"/paved/cosign.key"`,
		`withMountedSecret(mode:256, owner:"65532", path:"/paved/docker/config.json"`,
		`withSecretVariable(name:"COSIGN_PASSWORD"`,
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
			for _, secret := range []string{pw, regPW, "BEGIN ENCRYPTED"} {
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

// The user's key file and password never reach the engine, not even as
// a secret: cosign gets the key re-encrypted for the run, with a random
// password, and the public key is still the user's.
func TestQueryUserKeyAndPasswordStayInProcess(t *testing.T) {
	const pw = "SENTINEL-user-pw-4a7e"
	tr := newRegistry(t)
	k := newKey(t, pw)
	d := tr.pushRandom(t, "app", "v1")
	client, conn := daggertest.New(t)
	res, err := SignWith(t.Context(), Credentials{Key: k.priv, Password: []byte(pw)}, Request{Image: d.String(), Cosign: ContainerRunner{Client: client, Image: "cosign"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.PublicKey != string(k.pub) {
		t.Errorf("public key is not the user's")
	}
	body := strings.Split(string(k.priv), "\n")[1] // a line of the encrypted key
	conn.AssertNotQueried(t, pw)
	conn.AssertNotQueried(t, body)
	conn.AssertQueried(t, `withSecretVariable(name:"COSIGN_PASSWORD"`, `path:"/paved/cosign.key"`)
}

package sign

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"dagger.io/dagger"
)

// containerDir is where a ContainerRunner puts a call's files.
const containerDir = "/paved"

// ContainerRunner runs cosign calls in a container of Image (the images
// table's "cosign") through the engine. Secrets become dagger secrets
// (mounted secret files): never an argument, a plain variable
// or a layer. Each run carries a fresh nonce, so the engine never answers
// a signing or a verification from its cache.
type ContainerRunner struct {
	Client *dagger.Client
	Image  string
	// Registries are registries the container reaches under another name
	// than paved's process does, by host:port as the calls name them
	// (the embedded registry of a ship run, a tunnel on the engine tests'
	// host): the service is bound to the run and the name rewritten.
	Registries map[string]Route
}

// Route is a registry service and the alias and port a container uses.
type Route struct {
	Service *dagger.Service
	Alias   string
	Port    int
}

func (r ContainerRunner) Run(ctx context.Context, calls []Call) ([]byte, error) {
	if r.Client == nil || r.Image == "" {
		return nil, errors.New("cosign: no engine client or image (ContainerRunner needs both)")
	}
	nonce, err := randomHex(8)
	if err != nil {
		return nil, err
	}
	c := r.Client.Container().From(r.Image).
		WithEnvVariable("HOME", "/tmp").
		WithEnvVariable("PAVED_COSIGN_RUN", nonce)
	for _, host := range sortedKeys(r.Registries) {
		c = c.WithServiceBinding(r.Registries[host].Alias, r.Registries[host].Service)
	}
	// A secret file is readable by the image's user only.
	user, err := c.User(ctx)
	if err != nil {
		return nil, &CallError{Index: -1, Args: firstArgs(calls), Err: fmt.Errorf("starting the cosign image %s: %w", r.Image, err)}
	}
	// One chain, evaluated once: each exec starts when the one before it
	// succeeded, and a failure names its command.
	var prev Call
	cmds := make([][]string, len(calls))
	for i, call := range calls {
		c = r.prepare(c, prev, call, user, fmt.Sprintf("%s-%d", nonce, i))
		cmds[i] = append([]string{"cosign"}, mapStrings(call.Args, r.rewrite)...)
		c = c.WithExec(cmds[i])
		prev = call
	}
	out, err := c.Stdout(ctx)
	if err != nil {
		var ee *dagger.ExecError
		if errors.As(err, &ee) {
			i := failedCall(cmds, ee.Cmd)
			args := ee.Cmd
			if len(args) > 0 && args[0] == "cosign" {
				args = args[1:]
			}
			if i >= 0 {
				args = calls[i].Args
			}
			return nil, &CallError{Index: i, Args: args, ExitCode: ee.ExitCode, Stderr: strings.ReplaceAll(ee.Stderr, containerDir, Dir)}
		}
		return nil, &CallError{Index: -1, Args: firstArgs(calls), Err: err}
	}
	return []byte(out), nil
}

// failedCall is the index of the command the engine reports failed, or -1.
func failedCall(cmds [][]string, failed []string) int {
	for i, c := range cmds {
		if strings.Join(c, "\x00") == strings.Join(failed, "\x00") {
			return i
		}
	}
	return -1
}

// prepare drops the previous call's variables and adds this call's files,
// secret files and variables.
func (r ContainerRunner) prepare(c *dagger.Container, prev, call Call, user, id string) *dagger.Container {
	for k := range prev.Env {
		c = c.WithoutEnvVariable(k)
	}
	for _, name := range sortedKeys(call.Files) {
		c = c.WithNewFile(containerDir+"/"+name, string(call.Files[name]))
	}
	var opts []dagger.ContainerWithMountedSecretOpts
	if user != "" {
		opts = append(opts, dagger.ContainerWithMountedSecretOpts{Owner: user, Mode: 0o400})
	}
	for _, name := range sortedKeys(call.SecretFiles) {
		s := r.Client.SetSecret("paved-cosign-"+id+"-"+strings.ReplaceAll(name, "/", "-"), string(call.SecretFiles[name]))
		c = c.WithMountedSecret(containerDir+"/"+name, s, opts...)
	}
	for _, k := range sortedKeys(call.Env) {
		c = c.WithEnvVariable(k, expandContainer(call.Env[k]))
	}
	return c
}

func expandContainer(s string) string { return strings.ReplaceAll(s, Dir, containerDir) }

// rewrite is an argument as the container must see it: files under
// containerDir, routed registries under their alias.
func (r ContainerRunner) rewrite(s string) string {
	s = expandContainer(s)
	for host, rt := range r.Registries {
		if rest, ok := strings.CutPrefix(s, host+"/"); ok {
			return fmt.Sprintf("%s:%d/%s", rt.Alias, rt.Port, rest)
		}
	}
	return s
}

func firstArgs(calls []Call) []string {
	if len(calls) == 0 {
		return nil
	}
	return calls[0].Args
}

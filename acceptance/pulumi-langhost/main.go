// Command pulumi-langhost is the smallest Pulumi language host that can answer
// `pulumi package gen-sdk --language nodejs|python`: it serves only GeneratePackage (and
// GetPluginInfo), for the language its executable is named after
// (pulumi-language-nodejs or pulumi-language-python).
//
// Why it exists: since Pulumi 3.1xx the CLI generates SDKs through the language host of the
// target language, and the official Node.js and Python hosts are separate Go modules that
// the Go module proxy this project builds from does not serve. The code generators they call
// are in github.com/pulumi/pulumi/pkg/v3 (codegen/nodejs, codegen/python), which is served;
// this host binds the schema the CLI sends and calls those generators exactly as the
// official hosts do (go.mod says which version, and why not the pinned CLI's), so the SDK the
// acceptance test type-checks is the one a user's `gen-sdk` writes.
//
// Every other RPC (running programs, installing dependencies, linking) answers Unimplemented:
// the acceptance test only generates and compiles SDKs with it.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	nodejs "github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	python "github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is what GetPluginInfo reports; the test stamps the pinned CLI version with -ldflags.
var version = "0.0.0"

func main() {
	language := strings.TrimPrefix(filepath.Base(os.Args[0]), "pulumi-language-")
	if language != "nodejs" && language != "python" {
		fmt.Fprintf(os.Stderr, "%s: run me as pulumi-language-nodejs or pulumi-language-python\n", os.Args[0])
		os.Exit(2)
	}
	// The CLI passes the engine address and flags; SDK generation needs none of them.
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(server *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(server, &host{language: language})
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "cannot serve: %v\n", err)
		os.Exit(1)
	}
	// The CLI reads the port from the first line of standard output.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "stopped serving: %v\n", err)
		os.Exit(1)
	}
}

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	language string
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

// GeneratePackage binds the schema against the CLI's schema loader (parameterized packages
// refer to their base package through it) and writes what the language's generator returns.
func (h *host) GeneratePackage(
	_ context.Context, req *pulumirpc.GeneratePackageRequest,
) (*pulumirpc.GeneratePackageResponse, error) {
	client, err := schema.NewLoaderClient(req.LoaderTarget)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	loader := schema.NewCachedLoader(client)

	var spec schema.PackageSpec
	if err := json.Unmarshal([]byte(req.Schema), &spec); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	pkg, diags, err := schema.BindSpec(spec, loader, schema.ValidationOptions{AllowDanglingReferences: true})
	if err != nil {
		return nil, err
	}
	response := &pulumirpc.GeneratePackageResponse{Diagnostics: plugin.HclDiagnosticsToRPCDiagnostics(diags)}
	if diags.HasErrors() {
		return response, nil
	}

	var files map[string][]byte
	switch h.language {
	case "nodejs":
		files, err = nodejs.GeneratePackage("pulumi-language-nodejs", pkg, req.ExtraFiles, req.LocalDependencies, req.Local, loader)
	case "python":
		files, err = python.GeneratePackage("pulumi-language-python", pkg, req.ExtraFiles, loader)
	}
	if err != nil {
		return nil, err
	}
	for name, data := range files {
		path := filepath.Join(req.Directory, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return nil, err
		}
	}
	return response, nil
}

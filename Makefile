# denyfix — build, test, benchmark and demo.
# `make demo` and `make test` work on a fresh machine with Go, moto_server and cfn-lint.

GO        ?= go
BIN       := bin
PKGS      := ./...
FUZZTIME  ?= 10s
GOFLAGS_LAMBDA := -tags lambda.norpc -trimpath -ldflags '-s -w'

.PHONY: all build test vet fmt-check unit fuzz lint bench demo clean tools

all: build

build: ## the denyfix CLI for this machine
	$(GO) build -trimpath -o $(BIN)/denyfix ./cmd/denyfix

tools: ## check the tools the tests need are installed
	@command -v moto_server >/dev/null || { echo "moto_server is required (pip install 'moto[server]')"; exit 1; }
	@command -v cfn-lint >/dev/null || { echo "cfn-lint is required (pip install cfn-lint)"; exit 1; }

test: tools fmt-check vet unit fuzz lint ## everything CI runs

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

unit:
	$(GO) test -count=1 $(PKGS)

fuzz: ## each fuzz target briefly; FUZZTIME=1m for longer
	$(GO) test -run '^$$' -fuzz '^FuzzParseMessage$$' -fuzztime $(FUZZTIME) ./shared/denial
	$(GO) test -run '^$$' -fuzz '^FuzzReader$$' -fuzztime $(FUZZTIME) ./shared/cloudtrail

lint:
	@if [ -f template.yaml ]; then cfn-lint template.yaml; fi

bench: ## benchmarks, side by side with the alternatives
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

demo: build ## the whole pipeline on the embedded sample events
	$(BIN)/denyfix demo

clean:
	rm -rf $(BIN) .aws-sam

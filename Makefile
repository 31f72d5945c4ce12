# denyfix — build, test, benchmark and demo.
# `make demo` and `make test` work on a fresh machine with Go, moto_server and cfn-lint.

GO        ?= go
BIN       := bin
PKGS      := ./...
FUZZTIME  ?= 10s
GOFLAGS_LAMBDA := -tags lambda.norpc -trimpath -ldflags '-s -w'

.PHONY: all build cli test vet fmt-check unit fuzz lint bench bench-scan demo clean tools lambdas lambda-sizes \
	build-DiagnoseFunction build-RemediateFunction build-ApproveFunction build-NotifyFunction

all: build

build: cli lambdas ## the CLI for this machine and the four Lambda bootstraps (arm64, each < 15 MB)

cli: ## the denyfix CLI for this machine
	$(GO) build -trimpath -ldflags '-s -w' -o $(BIN)/denyfix ./cmd/denyfix

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
	$(GO) test -run '^$$' -fuzz '^FuzzExplainText$$' -fuzztime $(FUZZTIME) ./shared/denial
	$(GO) test -run '^$$' -fuzz '^FuzzReader$$' -fuzztime $(FUZZTIME) ./shared/cloudtrail
	$(GO) test -run '^$$' -fuzz '^FuzzEvaluate$$' -fuzztime $(FUZZTIME) ./shared/policy

lint:
	@if [ -f template.yaml ]; then cfn-lint template.yaml; fi

bench: lambda-sizes bench-scan ## benchmarks, side by side with the alternatives
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

bench-scan: cli ## denyfix scan vs gunzip on all cores vs zcat|jq, >= 100,000 records
	@for t in jq zcat xargs; do command -v $$t >/dev/null || { echo "bench-scan needs $$t"; exit 1; }; done
	$(GO) run ./cmd/scanbench -bin $(BIN)/denyfix -records 120000

# SAM (BuildMethod: makefile, CodeUri: .) runs build-<LogicalId> with ARTIFACTS_DIR set.
LAMBDA_BUILD := GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(GOFLAGS_LAMBDA)

build-DiagnoseFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/diagnose

build-RemediateFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/remediate

build-ApproveFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/approve

build-NotifyFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/notify

LAMBDAS    := diagnose remediate approve notify
# 15 MB: each stripped arm64 bootstrap must stay below it.
LAMBDA_MAX := 15000000

lambdas: ## the four Lambda bootstraps (linux/arm64) under bin/lambda/<name>/
	@for f in $(LAMBDAS); do \
	  $(LAMBDA_BUILD) -o $(BIN)/lambda/$$f/bootstrap ./functions/$$f || exit 1; \
	  size=$$(wc -c < $(BIN)/lambda/$$f/bootstrap); \
	  if [ $$size -ge $(LAMBDA_MAX) ]; then echo "$$f: bootstrap is $$size bytes, limit $(LAMBDA_MAX)"; exit 1; fi; \
	done

lambda-sizes: lambdas ## print each bootstrap's size
	@for f in $(LAMBDAS); do \
	  printf '%-10s %9d bytes  bin/lambda/%s/bootstrap\n' $$f $$(wc -c < $(BIN)/lambda/$$f/bootstrap) $$f; \
	done

demo: cli ## the whole pipeline on the embedded sample events
	$(BIN)/denyfix demo

clean:
	rm -rf $(BIN) .aws-sam

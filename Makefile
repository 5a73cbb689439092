# kyso — two commands: `make demo` and `make check`. Both install what is missing (Debian 12
# packages, apt-get) and build first.
BUILD ?= build
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKYSO_WERROR=ON
JOBS ?= $(shell nproc)

.PHONY: all deps build check unit interop demo bench clean

all: build

deps:
	@scripts/setup.sh

$(BUILD)/build.ninja: CMakeLists.txt | deps
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# check: every test — unit tests, SoftHSM2 integration and interop against openssl/pkcs11-tool.
check: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)
	@echo "== conformance scores (docs/conformance.md lists every disagreement) =="
	@grep -h -E "^(PKITS|x509-limbo|BoringSSL|DSS (pades|cades|xades))[^:]*: " $(BUILD)/Testing/Temporary/LastTest.log || true

unit: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -L 'unit|softhsm'

interop: build
	ctest --test-dir $(BUILD) --output-on-failure -L interop

# demo: a deployment under ./demo with a few issued and one revoked certificate, served on
# loopback. Ctrl-C stops the server; the deployment stays for the next `make demo`.
demo: build
	scripts/demo.sh

bench: build
	bench/run.sh

clean:
	rm -rf $(BUILD)

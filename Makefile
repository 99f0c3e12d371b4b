# The two commands of the README:
#   make run   — set up (librdkafka, build) and run the whole pipeline on the embedded broker with the synthetic market
#   make test  — set up and run every test
.PHONY: run test setup build clean bench

setup:
	@scripts/setup.sh

run: setup
	.build/debug/opsctl up $(ARGS)

test: setup
	swift test --skip-build

# Figures next to their goals (release build): `make bench ARGS=greeks` runs one section.
bench: setup
	swift build -c release
	.build/release/opsctl bench $(ARGS)

clean:
	rm -rf .build

#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# make fuzz: the Debian packages the fuzz targets build with (clang and its libFuzzer
# runtime), on top of make deps'. make test never needs them.
exec sh "$(dirname "$0")/deps.sh" "make fuzz" clang libclang-rt-14-dev

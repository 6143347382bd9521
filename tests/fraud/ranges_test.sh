#!/usr/bin/env bash
# The shipped data/fraud/ranges.txt is exactly what scripts/gen-fraud-ranges.py makes from
# the libphonenumber metadata (when the metadata is present beside the repository).
set -u
meta=${PBX_LIBPHONENUMBER_XML:-../shared/data/libphonenumber/libphonenumber-PhoneNumberMetadata.xml}
if [ ! -r "$meta" ]; then
    echo "metadata not found at $meta: nothing to compare"
    echo "0 passed, 0 failed"
    exit 0
fi
if python3 scripts/gen-fraud-ranges.py "$meta" | cmp -s - data/fraud/ranges.txt; then
    echo "1 passed, 0 failed"
    exit 0
fi
echo "FAIL: data/fraud/ranges.txt differs from the generator's output; regenerate it" >&2
echo "0 passed, 1 failed"
exit 1

/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_scenario: a scenario file as wapsim scenario reads it (train/scenario.h): parsed
 * whole, and each line split into words and checked as facts the way steps are. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "train/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    ws_scenario *sc = NULL;
    ws_scn_errors errs = {0};
    if (ws_scenario_parse("fuzz.scn", text, &sc, &errs) == 0)
        ws_scenario_free(sc);
    ws_scn_errors_free(&errs);
    ws_error e;
    int argc = 0;
    char **argv = NULL;
    if (ws_scn_split(text, &argc, &argv, &e) == 0)
        ws_scn_free_argv(argc, argv);
    (void)ws_scn_check_facts(text, &e);
    free(text);
    return 0;
}

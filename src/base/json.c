/* Small helpers for the JSON files every layer reads through cJSON (hardware catalog, model
 * configs, safetensors headers). */
#include "base_impl.h"

#include <stdio.h>

#include <cjson/cJSON.h>

const char *trn_json_describe(const struct cJSON *v, char *buf, size_t n) {
    if (cJSON_IsNumber(v))
        snprintf(buf, n, "%.17g", v->valuedouble);
    else if (cJSON_IsString(v))
        snprintf(buf, n, "a string (\"%.40s\")", v->valuestring);
    else if (cJSON_IsObject(v))
        snprintf(buf, n, "an object");
    else if (cJSON_IsArray(v))
        snprintf(buf, n, "an array");
    else if (cJSON_IsBool(v))
        snprintf(buf, n, cJSON_IsTrue(v) ? "true" : "false");
    else
        snprintf(buf, n, "null");
    return buf;
}

#ifndef CRDKAFKA_SHIM_H
#define CRDKAFKA_SHIM_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/// Non-variadic wrapper around rd_kafka_producev (Swift cannot call C varargs).
/// Key and value are always copied (RD_KAFKA_MSG_F_COPY), so the caller's
/// buffers may be released as soon as this returns.
/// partition: RD_KAFKA_PARTITION_UA (-1) lets the configured partitioner choose.
/// timestamp_ms: 0 means "now" (librdkafka's convention).
static inline rd_kafka_resp_err_t crdkafka_produce(rd_kafka_t *rk,
                                                   const char *topic,
                                                   int32_t partition,
                                                   const void *key,
                                                   size_t key_len,
                                                   const void *value,
                                                   size_t value_len,
                                                   int64_t timestamp_ms,
                                                   void *msg_opaque) {
        return rd_kafka_producev(
            rk,
            RD_KAFKA_V_TOPIC(topic),
            RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_KEY((void *)key, key_len),
            RD_KAFKA_V_VALUE((void *)value, value_len),
            RD_KAFKA_V_TIMESTAMP(timestamp_ms),
            RD_KAFKA_V_OPAQUE(msg_opaque),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_END);
}

/// RD_KAFKA_PARTITION_UA is a macro with a cast, which Swift does not import.
static inline int32_t crdkafka_partition_ua(void) {
        return RD_KAFKA_PARTITION_UA;
}

/// RD_KAFKA_OFFSET_* macros, exposed as functions for Swift.
static inline int64_t crdkafka_offset_beginning(void) {
        return RD_KAFKA_OFFSET_BEGINNING;
}
static inline int64_t crdkafka_offset_end(void) {
        return RD_KAFKA_OFFSET_END;
}
static inline int64_t crdkafka_offset_stored(void) {
        return RD_KAFKA_OFFSET_STORED;
}
static inline int64_t crdkafka_offset_invalid(void) {
        return RD_KAFKA_OFFSET_INVALID;
}

/// 1 if the handle uses the COOPERATIVE rebalance protocol, else 0.
static inline int crdkafka_is_cooperative(rd_kafka_t *rk) {
        const char *proto = rd_kafka_rebalance_protocol(rk);
        return proto != NULL && strcmp(proto, "COOPERATIVE") == 0;
}

#endif /* CRDKAFKA_SHIM_H */

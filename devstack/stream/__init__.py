"""Reading the events table's DynamoDB stream as Lambda's event source does, for
`run_deliveries` (locally; on AWS the event source mapping reads it and calls the same
handler, hooks.handler.handle_stream, so none of this ships in the Lambda zip).

    records   a GetRecords record in the shape Lambda hands a function; partial batch answers
    shards    the stream's shards and where the reader is in each (checkpoints in the store)
    reader    StreamReader: reads the shards that are ready and hands each batch on

The reader follows the stream's shards (a shard is read once its parent is drained, a
closed shard to its end, then its children), hands each non-empty batch of records to the
handler in Lambda's shape, and keeps its position per shard in the store
(hooks.models.StreamCheckpoint: pk `checkpoint#<stream ARN>`, sk the shard id, holding the
last sequence number handed on successfully).

Failures, as Lambda with ReportBatchItemFailures: the handler answers
{"batchItemFailures": [{"itemIdentifier": <SequenceNumber>}, ...]}; the checkpoint moves to
the record before the first failed one and the shard is read again from that record (after
a short backoff, doubling to BACKOFF_CAP_SECONDS while it keeps failing). A handler that
raises, or names a record that was not in the batch, fails the whole batch.

Where a shard without a checkpoint starts:

- the very first start for a stream (no checkpoint row at all under its ARN) writes a
  marker row (sk STARTED_SHARD, updated_at = when) and checkpoints each open shard at its
  newest record (read through once): a backlog written before deliveries ran is not
  blasted at the hooks; closed shards then hold only older records and are marked finished
  unread;
- after that (a restart, or a shard that appeared since), TRIM_HORIZON, skipping records
  created before the marker's second (ApproximateCreationDateTime is rounded down to the
  second): a restart before the first record arrived neither skips the records written
  since the first start nor replays what came before it.

One reader per stream at a time (lease.StreamLease, a row beside the checkpoints): a second
`run_deliveries` makes attempts only, and reads the stream once the first lets it go or
its lease runs out (6 s after it was killed). `--once` reads whoever else does.
"""

--[[ batch_update: a batch's new state and its next poll, if the batch still exists.
  A poller or collector that was slow must not bring back a batch another one dropped.
  KEYS[1] the batches set   KEYS[2] the batch's hash
  ARGV[1] the batch's id   ARGV[2] when it is due next   then field/value pairs for its hash
  Returns 1, or 0 when the batch is gone ]]
local rcall = redis.call
if rcall('EXISTS', KEYS[2]) == 0 then return 0 end
if #ARGV > 2 then rcall('HSET', KEYS[2], unpack(ARGV, 3)) end
rcall('ZADD', KEYS[1], ARGV[2], ARGV[1])
return 1

--[[ batch_lease: the collector's lease (one worker at a time creates batches): taken when free,
  renewed when held by the caller.
  KEYS[1] the lease key   ARGV[1] the worker id   ARGV[2] its TTL, milliseconds
  Returns 1 when the caller holds it, else 0 ]]
local rcall = redis.call
local holder = rcall('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
rcall('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1

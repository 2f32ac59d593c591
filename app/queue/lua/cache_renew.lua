--[[ cache_renew: extend the single-flight locks a live process still holds.
  A lock is a short lease that its holder renews while its model call runs (as BullMQ
  renews a job's lock), so a holder that dies (kill -9, a lost host) frees its texts
  within one lease instead of blocking every other worker's call for them. Compare and
  extend in one step: a lock that lapsed and was taken by another is not touched.
  KEYS[i] lock key of a text this process is calling the model for
  ARGV[1] owner token   ARGV[2] lease, ms
  Returns the number of locks renewed (the others were lost to a lapse) ]]
local owner, leaseMs = ARGV[1], ARGV[2]
local renewed = 0
for _, lockKey in ipairs(KEYS) do
  if redis.call('GET', lockKey) == owner then
    redis.call('PEXPIRE', lockKey, leaseMs)
    renewed = renewed + 1
  end
end
return renewed

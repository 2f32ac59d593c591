--[[ batch_drop: forget a batch whose jobs have all ended (its list is empty).
  KEYS[1] the batches set   KEYS[2] the batch's hash   KEYS[3] the batch's list
  ARGV[1] the batch's id
  Returns 1 when dropped, 0 when jobs are still held in it ]]
local rcall = redis.call
if rcall('LLEN', KEYS[3]) > 0 then return 0 end
rcall('DEL', KEYS[2])
rcall('ZREM', KEYS[1], ARGV[1])
return 1

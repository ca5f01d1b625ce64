-- wrk script: sends N pipelined `GET /` requests per write (default 16).
--   wrk -t 2 -c 100 -d 5s -s examples/http/wrk-pipeline.lua http://127.0.0.1:8080/ -- 16
-- wrk counts every response, so requests/sec is the number of answered requests.
local depth = 16
local batch

init = function(args)
  depth = tonumber(args[1]) or depth
  local reqs = {}
  for i = 1, depth do
    reqs[i] = wrk.format(nil, wrk.path)
  end
  batch = table.concat(reqs)
end

request = function()
  return batch
end

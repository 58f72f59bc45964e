-- Cycles through the request paths in the file named by WRK_PATHS (one
-- "/api/v1/search?..." per line), so every connection replays the mix.
local paths = {}
local file = assert(io.open(os.getenv("WRK_PATHS"), "r"))
for line in file:lines() do
  paths[#paths + 1] = line
end
file:close()

local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end

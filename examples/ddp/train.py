"""Data-parallel training with a loss exported from lossc (README: "From a tfjs prototype to
data-parallel training").

usage: python3 train.py FOCAL_MODULE.py

Two processes (torch.multiprocessing.spawn, gloo on 127.0.0.1, a free port) train one small
classifier under DistributedDataParallel with the exported binary focal cross-entropy; each
replica reduces its own half of the batch (sum_over_batch_size over its share) and DDP averages
the gradients. Checks that the loss falls and that both ranks end with the same weights; prints
one JSON line.
"""
import importlib.util
import json
import os
import socket
import sys

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load(path):
    spec = importlib.util.spec_from_file_location("exported_focal", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def worker(rank, world, port, path, out):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(0)
    x = torch.randn(512, 8)
    y = ((x[:, 0] + 0.5 * x[:, 1]) > 0.8).float().unsqueeze(-1)  # imbalanced labels
    shard = slice(rank * 256, (rank + 1) * 256)  # each replica its half of the data
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1), torch.nn.Sigmoid())
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    loss_fn = load(path).BinaryFocalCrossentropy(gamma=2.0)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.5)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss = loss_fn(y[shard], ddp(x[shard]))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    gathered = [torch.zeros_like(flat) for _ in range(world)]
    dist.all_gather(gathered, flat)
    if rank == 0:
        out.put({"first": losses[0], "last": losses[-1], "max_weight_diff": (gathered[0] - gathered[1]).abs().max().item()})
    dist.destroy_process_group()


def main():
    ctx = mp.get_context("spawn")
    out = ctx.SimpleQueue()
    mp.spawn(worker, args=(2, free_port(), os.path.abspath(sys.argv[1]), out), nprocs=2, join=True)
    result = out.get()
    result["ok"] = result["last"] < 0.7 * result["first"] and result["max_weight_diff"] == 0.0
    print(json.dumps(result))
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()

"""make_tnet.py: run in a folder holding tnet_model.py; writes there a
seeded TNet's state dict (tnet.pt), its weights as rnc names them
(tnet.safetensors, for tnet.rn), the same with each batch norm folded into
its conv as torch.onnx.export folds it (tnet_folded.safetensors, for
tnet_folded.rn), and an input x.npy (NHWC). Used by tests/e2e/inspect.sh."""
import json
import struct

import numpy as np
import torch

from tnet_model import TNet

torch.manual_seed(7)
m = TNet().eval()
with torch.no_grad():
    for bn in (m.bn1, m.bn2):  # statistics worth folding
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.5, 0.5)
torch.save(m.state_dict(), "tnet.pt")


def save_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name, v in tensors.items():
        b = np.ascontiguousarray(v, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(v.shape),
                        "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def keras_kernel(w):  # torch [out, in, kh, kw] -> Keras [kh, kw, in, out]
    return w.detach().numpy().transpose(2, 3, 1, 0)


t = {"conv1.kernel": keras_kernel(m.conv1.weight),
     "conv2.kernel": keras_kernel(m.conv2.weight),
     "conv2.bias": m.conv2.bias.detach().numpy(),
     "fc.kernel": m.fc.weight.detach().numpy().T,
     "fc.bias": m.fc.bias.detach().numpy()}
for name, bn in (("bn1", m.bn1), ("bn2", m.bn2)):
    t[name + ".gamma"] = bn.weight.detach().numpy()
    t[name + ".beta"] = bn.bias.detach().numpy()
    t[name + ".moving_mean"] = bn.running_mean.numpy()
    t[name + ".moving_variance"] = bn.running_var.numpy()
save_safetensors("tnet.safetensors", t)

folded = {"fc.kernel": t["fc.kernel"], "fc.bias": t["fc.bias"]}
for conv_name, bn in (("conv1", m.bn1), ("conv2", m.bn2)):
    conv = getattr(m, conv_name)
    scale = (bn.weight / torch.sqrt(bn.running_var + bn.eps)).detach()
    folded[conv_name + ".kernel"] = keras_kernel(conv.weight * scale[:, None, None, None])
    bias = conv.bias.detach() if conv.bias is not None else torch.zeros_like(scale)
    folded[conv_name + ".bias"] = ((bias - bn.running_mean) * scale + bn.bias).detach().numpy()
save_safetensors("tnet_folded.safetensors", folded)

np.save("x.npy", np.random.default_rng(3).uniform(-1, 1, (8, 8, 3)).astype(np.float32))

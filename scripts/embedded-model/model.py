"""The embedded model's network: GPT-2 with HF parameter names. train.py trains it, export.py exports it."""
import math
import torch, torch.nn as nn, torch.nn.functional as F
import bpe, data

ROOT = data.ROOT
EOT = bpe.EOT  # <|endoftext|>: separates documents in training, and is the context before a file's first byte
N_MERGES = 1791  # vocabulary 256 bytes + EOT + merges = 2048
CFG = dict(vocab_size=257 + N_MERGES, n_positions=256, n_embd=128, n_layer=4, n_head=4)


# ---------------------------------------------------------------- model
def gelu_new(x):  # GPT-2's tanh approximation, written out so the ONNX graph is the same ops
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class Conv1D(nn.Module):
    """GPT-2's Conv1D: a linear layer whose weight is stored [in, out], so state_dict names and shapes match HF."""
    def __init__(self, n_in, n_out, std):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_in, n_out) * std)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return x @ self.weight + self.bias


class Block(nn.Module):
    def __init__(self, E, L):
        super().__init__()
        proj_std = 0.02 / math.sqrt(2 * L)  # GPT-2: residual projections scaled by 1/sqrt(2 * n_layer)
        self.ln_1, self.ln_2 = nn.LayerNorm(E, eps=1e-5), nn.LayerNorm(E, eps=1e-5)
        self.attn = nn.Module(); self.mlp = nn.Module()
        self.attn.c_attn, self.attn.c_proj = Conv1D(E, 3 * E, 0.02), Conv1D(E, E, proj_std)
        self.mlp.c_fc, self.mlp.c_proj = Conv1D(E, 4 * E, 0.02), Conv1D(4 * E, E, proj_std)


class GPT2(nn.Module):
    """GPT2LMHeadModel with HF parameter names. forward() has the I/O of the HF/optimum ONNX export with KV cache,
    and training uses the same function (with an empty past), so what is trained is exactly what is exported."""
    def __init__(self, vocab_size, n_positions, n_embd, n_layer, n_head):
        super().__init__()
        self.E, self.L, self.H = n_embd, n_layer, n_head
        self.transformer = nn.Module()
        self.transformer.wte = nn.Embedding(vocab_size, n_embd)
        self.transformer.wpe = nn.Embedding(n_positions, n_embd)
        nn.init.normal_(self.transformer.wte.weight, std=0.02); nn.init.normal_(self.transformer.wpe.weight, std=0.01)
        self.transformer.h = nn.ModuleList(Block(n_embd, n_layer) for _ in range(n_layer))
        self.transformer.ln_f = nn.LayerNorm(n_embd, eps=1e-5)

    def empty_past(self, B):
        return [torch.zeros(B, self.H, 0, self.E // self.H) for _ in range(2 * self.L)]

    def forward(self, input_ids, attention_mask, position_ids, *past):
        E, H = self.E, self.H; D = E // H
        B, T = input_ids.shape
        P = past[0].shape[2]
        tr = self.transformer
        x = tr.wte(input_ids) + tr.wpe(position_ids)
        # query at absolute position P+t may see keys 0..P+t, and only those the attention_mask keeps
        if self.training:  # no past, no padding: a plain causal mask, and fused GELU (same function; CPU time)
            bias = torch.full((T, T), -1e9).triu(1); act = lambda h: F.gelu(h, approximate='tanh')
        else:
            kpos = torch.arange(P + T); qpos = torch.arange(T) + P
            allowed = (kpos.unsqueeze(0) <= qpos.unsqueeze(1)).unsqueeze(0).unsqueeze(0) & (attention_mask[:, None, None, :] > 0)
            bias = torch.where(allowed, torch.zeros(()), torch.full((), -1e9)); act = gelu_new
        presents = []
        for i, blk in enumerate(tr.h):
            q, k, v = blk.attn.c_attn(blk.ln_1(x)).split(E, dim=2)
            q, k, v = [t.view(B, T, H, D).transpose(1, 2) for t in (q, k, v)]
            k = torch.cat([past[2 * i], k], 2); v = torch.cat([past[2 * i + 1], v], 2)
            presents += [k, v]
            att = F.softmax((q * (1.0 / math.sqrt(D))) @ k.transpose(-2, -1) + bias, dim=-1)
            x = x + blk.attn.c_proj((att @ v).transpose(1, 2).reshape(B, T, E))
            x = x + blk.mlp.c_proj(act(blk.mlp.c_fc(blk.ln_2(x))))
        logits = tr.ln_f(x) @ tr.wte.weight.t()  # tied output embedding
        return (logits, *presents)

    def logits(self, ids):  # plain causal forward from position 0
        B, T = ids.shape
        return self(ids, torch.ones(B, T, dtype=torch.int64), torch.arange(T).expand(B, T), *self.empty_past(B))[0]

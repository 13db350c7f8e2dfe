"""Counting things with torch.unique: a tiny vocabulary, class balance and run lengths."""

import torch

sentence = ["the", "cat", "sat", "on", "the", "mat", "the", "end"]
vocabulary = sorted(set(sentence))
ids = torch.tensor([vocabulary.index(word) for word in sentence])
print("ids:", ids)

values, inverse, counts = torch.unique(ids, return_inverse=True, return_counts=True)
print("values:", values)
print("inverse:", inverse)
print("counts:", counts)
for value, count in zip(values.tolist(), counts.tolist()):
    print(f"  {vocabulary[value]!r} appears {count} time(s)")
print("re-built:", torch.equal(values[inverse], ids))

labels = torch.tensor([2, 0, 2, 1, 2, 0])
classes, per_class = labels.unique(return_counts=True)
weights = per_class.sum() / (len(classes) * per_class.float())
print("class weights:", weights)
print("sorted=False:", torch.unique(labels, sorted=False))

pairs = torch.tensor([[1, 2], [3, 4], [1, 2], [0, 9]])
rows, row_ids = torch.unique(pairs, dim=0, return_inverse=True)
print("unique rows:", rows, row_ids)
columns = torch.unique(torch.tensor([[1, 1, 0], [2, 2, 5]]), dim=1, return_counts=True)
print("unique columns:", columns)

signal = torch.tensor([0, 0, 1, 1, 1, 0, 2, 2])
runs, run_lengths = torch.unique_consecutive(signal, return_counts=True)
print("runs:", runs, "lengths:", run_lengths)
print("run ids:", torch.unique_consecutive(signal, return_inverse=True)[1])
print("consecutive rows:", torch.unique_consecutive(pairs[[0, 0, 1, 1, 0]], dim=0))

scores = torch.tensor([0.5, 0.25, 0.5, 1.0], requires_grad=True)
print("unique of a float tensor:", torch.unique(scores).detach())

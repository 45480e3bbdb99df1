// js-ipfs 0.66 resolves a newer it-queue that needs Promise.withResolvers (Node >= 22); Node 20 lacks it.
if (!Promise.withResolvers) {
  Promise.withResolvers = function () {
    let resolve, reject
    const promise = new Promise((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}
